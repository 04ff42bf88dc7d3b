/**
 * One logical API call with retries. A write carries one Idempotency-Key for all its attempts, so the server
 * applies it at most once however often it is retried. Retried: network failures, attempt timeouts, 429
 * (after Retry-After) and 502/503/504, with exponential backoff and jitter; never another 4xx or a 500.
 */
import { CreditsApiError } from './errors.ts';

export type TransportOptions = {
  baseUrl: string;
  apiKey: string;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Per attempt; undefined: no limit. */
  timeoutMs?: number;
  retryBaseDelayMs: number;
  /** Longest wait between attempts; a Retry-After beyond it is not waited for (the error is thrown). */
  maxRetryDelayMs: number;
  userAgent: string;
};

export type CallOptions = {
  /** For writes: reuse this key instead of a new one (e.g. the id of your own job, to survive restarts). */
  idempotencyKey?: string;
  signal?: AbortSignal;
};

export type Call = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
};

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Milliseconds to wait from a Retry-After header (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Exponential backoff with jitter: between half and all of base * 2^attempt, capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function apiError(res: Response, body: unknown): CreditsApiError {
  const requestId = res.headers.get('x-request-id');
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.code === 'string') {
    return new CreditsApiError({
      status: res.status,
      code: error.code,
      message: typeof error.message === 'string' ? error.message : error.code,
      details: error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : undefined,
      requestId,
    });
  }
  return new CreditsApiError({ status: res.status, code: 'http_error', message: `HTTP ${res.status} ${res.statusText}`.trim(), requestId });
}

export function buildUrl(baseUrl: string, call: Call): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + call.path);
  for (const [name, value] of Object.entries(call.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}

export async function send<T>(options: TransportOptions, call: Call, callOptions: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.apiKey}`,
    accept: 'application/json',
    'user-agent': options.userAgent,
  };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.method === 'POST' || call.method === 'PUT') {
    headers['idempotency-key'] = callOptions.idempotencyKey ?? crypto.randomUUID();
  }
  const url = buildUrl(options.baseUrl, call);
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);

  for (let attempt = 0; ; attempt++) {
    const last = attempt >= options.maxRetries;
    const signals = [callOptions.signal, options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)];
    const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
    let res: Response;
    let answer: unknown;
    try {
      res = await fetch(url, { method: call.method, headers, body, signal });
      answer = await readBody(res);
    } catch (err) {
      if (callOptions.signal?.aborted) throw callOptions.signal.reason;
      const timedOut = (err as { name?: string }).name === 'TimeoutError';
      if (last) {
        throw new CreditsApiError({
          status: 0,
          code: timedOut ? 'timeout' : 'network_error',
          message: timedOut ? `No answer within ${options.timeoutMs} ms` : `Request failed: ${(err as Error).message}`,
          cause: err,
        });
      }
      await sleep(backoffMs(attempt, options.retryBaseDelayMs, options.maxRetryDelayMs), callOptions.signal);
      continue;
    }

    if (res.ok) return answer as T;
    if (!last && RETRYABLE_STATUS.has(res.status)) {
      const asked = retryAfterMs(res.headers.get('retry-after'));
      if (asked === null || asked <= options.maxRetryDelayMs) {
        await sleep(asked ?? backoffMs(attempt, options.retryBaseDelayMs, options.maxRetryDelayMs), callOptions.signal);
        continue;
      }
    }
    throw apiError(res, answer);
  }
}
