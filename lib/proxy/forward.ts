/**
 * Forwarding one request to an upstream with its key, through the upstream's circuit breaker, with Node's
 * global fetch (undici, which keeps connections alive and reuses them). JSON answers are read whole (they are
 * small) and their usage taken. Streams are passed on event by event as they arrive, never buffered whole;
 * the proxy asks the upstream for a final usage chunk (`stream_options.include_usage`) when the client did
 * not, and keeps it from that client. When a stream ends, `end` tells how: completed, broken off by the
 * client, failed upstream or timed out, with the usage seen and an estimate of the output streamed so far.
 * A timeout covers the wait for the answer's headers and then each wait for the next chunk.
 */
import { AppError } from '../http/errors.ts';
import { getMetrics } from '../metrics/registry.ts';
import { CircuitOpenError, type UpstreamBreakers } from './circuit-breaker.ts';
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
export class ClientAbortedError extends Error {
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

/** Headers of an upstream answer worth passing on (not hop-by-hop ones, nor those fetch made untrue). */
const passedHeaders = ['content-type', 'openai-processing-ms', 'openai-model', 'x-request-id'];

function responseHeaders(res: Response, stream: boolean): Headers {
  const out = new Headers();
  for (const name of passedHeaders) {
    const value = res.headers.get(name);
    if (value) out.set(name === 'x-request-id' ? 'x-upstream-request-id' : name, value);
  }
  if (stream) {
    out.set('content-type', 'text/event-stream; charset=utf-8');
    out.set('cache-control', 'no-cache');
    out.set('x-accel-buffering', 'no');
  }
  return out;
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
  // Once a stream is running, a client that goes away ends it at once, whether or not a read is pending.
  let onStreamAbort = () => {};
  const onClientAbort = () => {
    controller.abort(new ClientAbortedError());
    onStreamAbort();
  };
  o.clientSignal.addEventListener('abort', onClientAbort, { once: true });
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

  const { body, clientAskedUsage } = o.body ? upstreamBody(o.body) : { body: undefined, clientAskedUsage: false };
  const stream = body?.stream === true;
  const started = performance.now();
  let res: Response;
  try {
    res = await o.breakers.run(o.upstream.id, () =>
      fetch(`${o.upstream.baseUrl}${o.path}`, {
        method: o.method,
        headers: {
          authorization: `Bearer ${o.upstream.apiKey}`,
          accept: stream ? 'text/event-stream' : 'application/json',
          ...(body && { 'content-type': 'application/json' }),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: controller.signal,
      }),
    );
  } catch (err) {
    throw failure(err);
  }
  metrics.upstreamDuration.observe({ upstream: upstreamLabel }, (performance.now() - started) / 1000);

  if (!res.ok || !stream) {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw failure(err);
    }
    cleanup();
    if (!res.ok) {
      metrics.upstreamErrors.inc({ upstream: upstreamLabel, kind: `status_${res.status >= 500 ? '5xx' : res.status}` });
      return { kind: 'upstream_error', status: res.status, text, retryAfter: res.headers.get('retry-after') };
    }
    let usage: TokenUsage | null = null;
    try {
      usage = usageFromOpenAi((JSON.parse(text) as { usage?: unknown }).usage);
    } catch {
      // Not JSON: passed on as it is, without usage.
    }
    return { kind: 'json', status: res.status, headers: responseHeaders(res, false), text, usage };
  }

  const reader = res.body!.getReader();
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
    reader.cancel().catch(() => {});
    finish('client_aborted');
  };
  onStreamTimeout = () => {
    reader.cancel().catch(() => {});
    finish('timed_out');
  };
  const body$ = new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        try {
          const { done, value } = await reader.read();
          if (done) {
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
        reader.cancel().catch(() => {});
        finish('client_aborted');
      },
    },
    { highWaterMark: 0 },
  );
  return { kind: 'stream', status: res.status, headers: responseHeaders(res, true), body: body$, end };
}
