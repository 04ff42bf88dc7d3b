/**
 * Direct dispatch of the metering hot paths and the LLM proxy in the production server. Next's router costs a
 * few milliseconds of CPU per request, more than the ledger work of a coalesced reserve or commit; these routes
 * are plain handlers with no rendering, so the server hands matching requests straight to the same handler
 * functions (lib/http/metering-routes.ts, lib/proxy/routes.ts) and everything else to Next. Streamed answers
 * pass through chunk by chunk, and the request's signal aborts when the client disconnects. Behaviour is identical either way: the handlers take a
 * standard Request and return a standard Response, and requests that match no entry (including a trailing
 * slash or another method) go to Next unchanged.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from './errors.ts';
import { knownBody } from './known-body.ts';
import { errorResponse } from './route.ts';

type Handler = (req: Request, context?: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** `path` uses `:name` for a parameter segment, e.g. `/api/v1/reservations/:id/commit`. */
export type FastRoute = { method: string; path: string; handler: Handler };

type CompiledRoute = { method: string; segments: string[]; handler: Handler };

/** Bodies above this are refused with 413 before they are read further (a 1,000-event batch is far smaller). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

function compile(routes: FastRoute[]): CompiledRoute[] {
  return routes.map((r) => ({ method: r.method, segments: r.path.split('/'), handler: r.handler }));
}

function match(routes: CompiledRoute[], method: string, pathname: string) {
  const parts = pathname.split('/');
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = route.segments[i];
      if (seg.startsWith(':')) {
        if (parts[i] === '') ok = false;
        else params[seg.slice(1)] = decodeURIComponent(parts[i]);
      } else if (seg !== parts[i]) ok = false;
    }
    if (ok) return { handler: route.handler, params };
  }
  return null;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    return Promise.reject(new AppError('payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AppError('payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Header lookups straight from Node's parsed headers, as Headers.get answers them. */
class NodeHeaders {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.headers[name.toLowerCase()] !== undefined;
  }
}

/**
 * The request as the dispatched handlers see it: the members of Request they use (method, url, headers.get and
 * has, body as null or not, text, json, signal), read from Node's request without building a WHATWG Request,
 * which costs more per request than the rest of a coalesced reserve. The tests of this file exercise each one.
 */
class NodeRequest {
  readonly headers: NodeHeaders;
  readonly url: string;
  readonly method: string;
  readonly body: Buffer | null;

  constructor(
    req: IncomingMessage,
    origin: string,
    private readonly raw: Buffer,
    readonly signal: AbortSignal,
  ) {
    this.headers = new NodeHeaders(req.headers);
    this.url = origin + (req.url ?? '/');
    this.method = req.method ?? 'GET';
    this.body = raw.length > 0 ? raw : null;
  }

  text(): Promise<string> {
    return Promise.resolve(this.raw.toString('utf8'));
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.raw.toString('utf8'));
  }
}

function toRequest(req: IncomingMessage, origin: string, body: Buffer, signal: AbortSignal): Request {
  return new NodeRequest(req, origin, body, signal) as unknown as Request;
}

/**
 * Writes the handler's response: a JSON answer in one piece with its length; any other body (a stream of
 * server-sent events from the proxy) chunk by chunk as it comes, stopping when the client goes away.
 */
async function send(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  const known = knownBody(response);
  if (known !== undefined) {
    const body = Buffer.from(known);
    res.setHeader('content-length', body.length);
    res.end(body);
    return;
  }
  const type = response.headers.get('content-type') ?? '';
  if (response.body === null || type.startsWith('application/json')) {
    const body = Buffer.from(await response.arrayBuffer());
    res.setHeader('content-length', body.length);
    res.end(body);
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      res.write(value);
    }
  } finally {
    if (res.destroyed) await reader.cancel().catch(() => {});
    res.end();
  }
}

/**
 * A function that serves `req` when it matches one of `routes` and returns true, or returns false (leaving
 * `req` untouched) for the caller to pass on.
 */
export function createFastDispatch(routes: FastRoute[], origin: string) {
  const compiled = compile(routes);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const found = match(compiled, req.method ?? 'GET', q === -1 ? url : url.slice(0, q));
    if (!found) return false;
    // Aborted when the client goes away before its answer is complete, as Next does for route handlers.
    const aborted = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    void (async () => {
      let response: Response;
      try {
        const body = await readBody(req);
        response = await found.handler(toRequest(req, origin, body, aborted.signal), { params: Promise.resolve(found.params) });
      } catch (err) {
        response = errorResponse(err);
        // The unread rest of a refused body must not be taken for the next request on this connection.
        if (response.status === 413) res.setHeader('connection', 'close');
      }
      await send(res, response);
    })().catch((err) => {
      // The response could not be written (the client went away); nothing is left to answer.
      if (!res.headersSent) res.destroy(err as Error);
    });
    return true;
  };
}
