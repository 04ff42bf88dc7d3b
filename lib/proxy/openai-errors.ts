/**
 * Errors of the proxy in OpenAI's shape, `{error: {message, type, code, param}}`, so OpenAI SDKs surface them
 * as their own error classes: the status still comes from the one code table of lib/http/errors.ts, and the
 * type and code follow OpenAI's (402 insufficient credits is `insufficient_quota`, 429 carries Retry-After).
 * Unknown errors are a generic 500 (the caller logs them with the request id).
 */
import { type AppError, isAppError } from '../http/errors.ts';
import { jsonResponse } from '../http/known-body.ts';

type OpenAiShape = { type: string; code: string | null };

const shapes: Partial<Record<AppError['code'], OpenAiShape>> = {
  bad_request: { type: 'invalid_request_error', code: null },
  invalid_json: { type: 'invalid_request_error', code: 'invalid_json' },
  validation_failed: { type: 'invalid_request_error', code: null },
  unauthenticated: { type: 'invalid_request_error', code: 'invalid_api_key' },
  forbidden: { type: 'invalid_request_error', code: 'insufficient_permissions' },
  not_found: { type: 'invalid_request_error', code: 'not_found' },
  insufficient_credits: { type: 'insufficient_quota', code: 'insufficient_quota' },
  rate_limited: { type: 'requests', code: 'rate_limit_exceeded' },
  unavailable: { type: 'server_error', code: 'service_unavailable' },
  upstream_error: { type: 'server_error', code: 'upstream_error' },
  upstream_timeout: { type: 'server_error', code: 'upstream_timeout' },
};

export type OpenAiErrorBody = { error: { message: string; type: string; code: string | null; param: string | null } };

export function openAiErrorBody(err: unknown): { status: number; body: OpenAiErrorBody; retryAfter: number | null } {
  if (!isAppError(err)) {
    return { status: 500, body: { error: { message: 'Internal server error', type: 'server_error', code: null, param: null } }, retryAfter: null };
  }
  const shape = shapes[err.code] ?? { type: 'server_error', code: err.code };
  const details = err.details ?? {};
  const kind = details.kind;
  const type = err.code === 'rate_limited' && kind === 'tpm' ? 'tokens' : shape.type;
  const code = typeof details.openaiCode === 'string' ? details.openaiCode : shape.code;
  const param = typeof details.param === 'string' ? details.param : typeof details.field === 'string' ? details.field : null;
  const retry = typeof details.retryAfterSeconds === 'number' ? Math.max(1, Math.ceil(details.retryAfterSeconds)) : null;
  const retryAfter = err.code === 'rate_limited' ? (retry ?? 1) : retry;
  return { status: err.status, body: { error: { message: err.message, type, code, param } }, retryAfter };
}

export function openAiErrorResponse(err: unknown, headers?: HeadersInit): Response {
  const { status, body, retryAfter } = openAiErrorBody(err);
  const h = new Headers(headers);
  if (retryAfter !== null) h.set('retry-after', String(retryAfter));
  return jsonResponse(body, { status, headers: h });
}
