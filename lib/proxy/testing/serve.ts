/**
 * Serves fetch-style route handlers on node:http at 127.0.0.1 with an ephemeral port, the way Next.js hands
 * requests to them: a Request whose signal aborts when the client goes away, and a streamed Response body
 * that is cancelled when the connection closes. For tests and benchmarks of the proxy without Next.js.
 * `direct: true` serves them as the production server does instead (lib/http/fast-dispatch.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFastDispatch, type FastRoute } from '../../http/fast-dispatch.ts';
import type { RouteHandler } from '../../http/route.ts';

export type Served = { url: string; close(): Promise<void> };

async function toRequest(req: IncomingMessage, res: ServerResponse, base: string): Promise<Request> {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  headers.set('x-forwarded-for', req.socket.remoteAddress ?? '');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
  return new Request(new URL(req.url ?? '/', base), { method: req.method, headers, body, signal: controller.signal });
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on('close', () => {
    if (!res.writableFinished) reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error', code: null, param: null } }));
}

/** `routes` maps a path to its handler (GET for paths ending in /models, else POST when `direct`). */
export async function serveRoutes(routes: Record<string, RouteHandler>, options: { direct?: boolean } = {}): Promise<Served> {
  let base = '';
  const fast = options.direct
    ? Object.entries(routes).map(([path, handler]): FastRoute => ({ method: path.endsWith('/models') ? 'GET' : 'POST', path, handler }))
    : null;
  let dispatch: ReturnType<typeof createFastDispatch> | null = null;
  const server = createServer(async (req, res) => {
    if (fast) {
      dispatch ??= createFastDispatch(fast, base);
      if (!dispatch(req, res)) notFound(res);
      return;
    }
    const handler = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!handler) return notFound(res);
    try {
      const request = await toRequest(req, res, base);
      await writeResponse(await handler(request, { params: Promise.resolve({}) }), res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
