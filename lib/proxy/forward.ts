/**
 * Forwarding one request to an upstream with its key, through the upstream's circuit breaker, with Node's
 * http and https clients over keep-alive agents (connections are reused; cheaper per call than fetch, whose
 * web streams cost more CPU than the proxy's own work). JSON answers are read whole (they are small) and
 * their usage taken. Streams are passed on event by event as they arrive, never buffered whole; the proxy
 * asks the upstream for a final usage chunk (`stream_options.include_usage`) when the client did not, and
 * keeps it from that client. When a stream ends, `end` tells how: completed, broken off by the client, failed
 * upstream or timed out, with the usage seen and an estimate of the output streamed so far. A timeout covers
 * the wait for the answer's headers and then each wait for the next chunk.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { AppError } from '../http/errors.ts';
import { getMetrics } from '../metrics/registry.ts';
import { CallerAbortError, CircuitOpenError, type UpstreamBreakers } from './circuit-breaker.ts';
import { SseObserver } from './sse.ts';
import type { Upstream } from './upstreams.ts';
import { type TokenUsage, usageFromOpenAi } from './usage.ts';

export type ForwardOptions = {
  upstream: Upstream;
  /** Path under the upstream's base URL, e.g. "/chat/completions". */
  path: string;
  method: 'GET' | 'POST';
  body?: Record<string, unknown>;
  /** Aborts when the client goes away. */
  clientSignal: AbortSignal;
  breakers: UpstreamBreakers;
  timeoutMs: number;
};

export type StreamEnd = {
  kind: 'completed' | 'client_aborted' | 'upstream_failed' | 'timed_out';
  usage: TokenUsage | null;
  estimatedOutputTokens: number;
};

export type Forwarded =
  | { kind: 'json'; status: number; headers: Headers; text: string; usage: TokenUsage | null }
  | { kind: 'stream'; status: number; headers: Headers; body: ReadableStream<Uint8Array>; end: Promise<StreamEnd> }
  | { kind: 'upstream_error'; status: number; text: string; retryAfter: string | null };

/** Raised when the client went away before the upstream answered. */
export class ClientAbortedError extends CallerAbortError {
  constructor() {
    super('The client closed the request');
    this.name = 'ClientAbortedError';
  }
}

class UpstreamTimeoutError extends Error {
  constructor() {
    super('The upstream did not answer in time');
    this.name = 'UpstreamTimeoutError';
  }
}

/** Headers of an upstream answer worth passing on (not hop-by-hop ones). */
const passedHeaders = ['content-type', 'openai-processing-ms', 'openai-model', 'x-request-id'];

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

function responseHeaders(res: IncomingMessage, stream: boolean): Headers {
  const out = new Headers();
  for (const name of passedHeaders) {
    const value = header(res.headers, name);
    if (value) out.set(name === 'x-request-id' ? 'x-upstream-request-id' : name, value);
  }
  if (stream) {
    out.set('content-type', 'text/event-stream; charset=utf-8');
    out.set('cache-control', 'no-cache');
    out.set('x-accel-buffering', 'no');
  }
  return out;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxFreeSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxFreeSockets: 256 }),
};

/** Sends the request; resolves with the answer once its headers arrived. Aborting `signal` destroys it. */
function request(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (err) {
      return reject(err);
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return reject(new Error(`unsupported protocol ${target.protocol}`));
    const req = (secure ? https : http).request(target, {
      method,
      headers: { ...headers, ...(body && { 'content-length': String(body.length) }) },
      agent: agents[secure ? 'https:' : 'http:'],
      signal,
    });
    req.once('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** The whole body of an answer as text. */
function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8')));
    res.on('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('The upstream closed the answer before its end'));
    });
  });
}

/** The body to send: for a stream, with a final usage chunk asked for. Returns whether the client asked. */
export function upstreamBody(body: Record<string, unknown>): { body: Record<string, unknown>; clientAskedUsage: boolean } {
  if (body.stream !== true) return { body, clientAskedUsage: false };
  const options = (body.stream_options && typeof body.stream_options === 'object' ? body.stream_options : {}) as Record<string, unknown>;
  const clientAskedUsage = options.include_usage === true;
  return { body: { ...body, stream_options: { ...options, include_usage: true } }, clientAskedUsage };
}

export async function forward(o: ForwardOptions): Promise<Forwarded> {
  const metrics = getMetrics();
  const upstreamLabel = o.upstream.id === 'default' ? 'default' : o.upstream.name;
  const controller = new AbortController();
  if (o.clientSignal.aborted) throw new ClientAbortedError();
  const { body, clientAskedUsage } = o.body ? upstreamBody(o.body) : { body: undefined, clientAskedUsage: false };
  const stream = body?.stream === true;
  // A client that goes away ends a stream at once, whether or not a read is pending (it is charged what was
  // streamed). A call answered in one piece is not ended: the upstream does the work (and bills it) either
  // way, so the answer is awaited and charged, within the timeout.
  let onStreamAbort = () => {};
  const onClientAbort = () => {
    controller.abort(new ClientAbortedError());
    onStreamAbort();
  };
  if (stream) o.clientSignal.addEventListener('abort', onClientAbort, { once: true });
  // Once a stream is running, a timeout ends it at once too, even when nobody is reading it.
  let onStreamTimeout = () => {};
  const timeOut = () => {
    controller.abort(new UpstreamTimeoutError());
    onStreamTimeout();
  };
  let timer = setTimeout(timeOut, o.timeoutMs);
  const cleanup = () => {
    clearTimeout(timer);
    o.clientSignal.removeEventListener('abort', onClientAbort);
  };
  const failure = (err: unknown): Error => {
    cleanup();
    const reason = controller.signal.aborted ? controller.signal.reason : err;
    if (reason instanceof ClientAbortedError) return reason;
    if (reason instanceof UpstreamTimeoutError) {
      metrics.upstreamErrors.inc({ upstream: upstreamLabel, kind: 'timeout' });
      return new AppError('upstream_timeout', 'The upstream did not answer in time');
    }
    if (reason instanceof CircuitOpenError) {
      metrics.upstreamErrors.inc({ upstream: upstreamLabel, kind: 'circuit_open' });
      return new AppError('unavailable', 'The upstream is unavailable; try again shortly', { retryAfterSeconds: 5 });
    }
    metrics.upstreamErrors.inc({ upstream: upstreamLabel, kind: 'network' });
    return new AppError('upstream_error', 'The upstream could not be reached');
  };

  const started = performance.now();
  let res: IncomingMessage;
  try {
    res = await o.breakers.run(o.upstream.id, () =>
      request(
        `${o.upstream.baseUrl}${o.path}`,
        o.method,
        {
          authorization: `Bearer ${o.upstream.apiKey}`,
          accept: stream ? 'text/event-stream' : 'application/json',
          'accept-encoding': 'identity',
          ...(body && { 'content-type': 'application/json' }),
        },
        body ? Buffer.from(JSON.stringify(body)) : undefined,
        controller.signal,
      ).catch((err: unknown) => {
        // The client went away: not the upstream's failure (the breaker does not count it).
        throw controller.signal.reason instanceof ClientAbortedError ? controller.signal.reason : err;
      }),
    );
  } catch (err) {
    throw failure(err);
  }
  metrics.upstreamDuration.observe({ upstream: upstreamLabel }, (performance.now() - started) / 1000);
  const status = res.statusCode ?? 502;
  const ok = status >= 200 && status < 300;

  if (!ok || !stream) {
    let text: string;
    try {
      text = await readText(res);
    } catch (err) {
      throw failure(err);
    }
    cleanup();
    if (!ok) {
      metrics.upstreamErrors.inc({ upstream: upstreamLabel, kind: `status_${status >= 500 ? '5xx' : status}` });
      return { kind: 'upstream_error', status, text, retryAfter: header(res.headers, 'retry-after') };
    }
    let usage: TokenUsage | null = null;
    try {
      usage = usageFromOpenAi((JSON.parse(text) as { usage?: unknown }).usage);
    } catch {
      // Not JSON: passed on as it is, without usage.
    }
    return { kind: 'json', status, headers: responseHeaders(res, false), text, usage };
  }

  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const observer = new SseObserver(!clientAskedUsage);
  let resolveEnd: (end: StreamEnd) => void = () => {};
  const end = new Promise<StreamEnd>((resolve) => (resolveEnd = resolve));
  let ended = false;
  const finish = (kind: StreamEnd['kind']) => {
    if (ended) return;
    ended = true;
    cleanup();
    if (kind === 'upstream_failed' || kind === 'timed_out') metrics.upstreamErrors.inc({ upstream: upstreamLabel, kind: kind === 'timed_out' ? 'timeout' : 'stream' });
    resolveEnd({ kind, usage: observer.usage, estimatedOutputTokens: observer.estimatedOutputTokens });
  };
  onStreamAbort = () => {
    res.destroy();
    finish('client_aborted');
  };
  onStreamTimeout = () => {
    res.destroy();
    finish('timed_out');
  };
  const body$ = new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        try {
          const { done, value } = await chunks.next();
          if (done) {
            if (!res.complete) throw new Error('The upstream closed the stream before its end');
            const tail = observer.flush();
            if (tail.length) out.enqueue(tail);
            finish('completed');
            out.close();
            return;
          }
          clearTimeout(timer);
          timer = setTimeout(timeOut, o.timeoutMs);
          const passed = observer.push(value);
          if (passed.length) out.enqueue(passed);
        } catch (err) {
          const reason = controller.signal.aborted ? controller.signal.reason : err;
          if (reason instanceof ClientAbortedError) {
            finish('client_aborted');
            out.close();
          } else {
            finish(reason instanceof UpstreamTimeoutError ? 'timed_out' : 'upstream_failed');
            out.error(reason);
          }
        }
      },
      cancel() {
        controller.abort(new ClientAbortedError());
        res.destroy();
        finish('client_aborted');
      },
    },
    { highWaterMark: 0 },
  );
  return { kind: 'stream', status, headers: responseHeaders(res, true), body: body$, end };
}
