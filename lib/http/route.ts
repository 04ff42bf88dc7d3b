/**
 * The wrapper of every route handler: a request id (the caller's `x-request-id` when it is sane, else a new
 * uuid) echoed in the response, one JSON log line per request, and AppErrors mapped through the one
 * code->status table. A database that cannot be reached is 503 unavailable with Retry-After (clients retry
 * it). Anything else is a generic 500 whose stack is logged with the request id, so a client
 * never sees internals but support can find them.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { AppError, isAppError, toErrorBody, validationError } from './errors.ts';
import { jsonResponse } from './known-body.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { observeHttpRequest } from '../metrics/http.ts';
import { type Logger, logger as rootLogger } from './logger.ts';

export type RouteParams = Record<string, string | string[] | undefined>;

export type RouteContext<P extends RouteParams = RouteParams> = {
  requestId: string;
  params: P;
  log: Logger;
};

/** The shape Next.js passes as the second argument of a route handler. */
export type NextRouteContext<P extends RouteParams = RouteParams> = { params: Promise<P> };

export type RouteHandler<P extends RouteParams = RouteParams> = (
  req: Request,
  context?: NextRouteContext<P>,
) => Promise<Response>;

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(req: Request): string {
  const incoming = req.headers.get('x-request-id');
  return incoming && requestIdPattern.test(incoming) ? incoming : randomUUID();
}

export function json(data: unknown, status = 200, headers?: HeadersInit): Response {
  return jsonResponse(data, { status, headers });
}

/** The JSON error response for `err`; unknown errors become a generic 500. */
export function errorResponse(err: unknown): Response {
  const { status, body } = toErrorBody(err);
  const headers = new Headers();
  if (isAppError(err) && (err.code === 'rate_limited' || (err.code === 'unavailable' && err.details?.retryAfterSeconds !== undefined))) {
    const retryAfter = err.details?.retryAfterSeconds;
    headers.set('retry-after', String(typeof retryAfter === 'number' ? Math.max(1, Math.ceil(retryAfter)) : 1));
  }
  return json(body, status, headers);
}

function withRequestId(res: Response, requestId: string): Response {
  try {
    res.headers.set('x-request-id', requestId);
    return res;
  } catch {
    // Some responses (e.g. from fetch) have immutable headers.
    const copy = new Response(res.body, res);
    copy.headers.set('x-request-id', requestId);
    return copy;
  }
}

export function route<P extends RouteParams = Record<string, string>>(
  handler: (req: Request, ctx: RouteContext<P>) => Promise<Response>,
): RouteHandler<P> {
  return async (req, context) => {
    const started = performance.now();
    const requestId = requestIdFrom(req);
    const log = rootLogger.child({ reqId: requestId });
    const path = new URL(req.url).pathname;
    let res: Response;
    let params = {} as P;
    try {
      params = ((await context?.params) ?? {}) as P;
      res = await handler(req, { requestId, params, log });
    } catch (err) {
      if (err instanceof SyntaxError && !isAppError(err)) {
        res = errorResponse(new AppError('invalid_json', 'Request body is not valid JSON'));
      } else if (isDatabaseUnavailable(err)) {
        // Nothing was done (or, for a write cut off mid-way, its Idempotency-Key makes the retry safe).
        log.error({ err, method: req.method, path }, 'database unavailable');
        res = errorResponse(new AppError('unavailable', 'The database is unavailable; try again shortly', { retryAfterSeconds: 5 }));
      } else {
        if (!isAppError(err)) log.error({ err, method: req.method, path }, 'unhandled error');
        res = errorResponse(err);
      }
    }
    res = withRequestId(res, requestId);
    const elapsed = performance.now() - started;
    observeHttpRequest(req.method, path, params, res.status, elapsed / 1000);
    log.info({ method: req.method, path, status: res.status, durationMs: Math.round(elapsed) }, 'request');
    return res;
  };
}

/** The request's JSON body parsed with `schema`: 400 invalid_json when it is not JSON, 422 when it does not fit. */
export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>> {
  return parseJson(await req.text(), schema);
}

/** Like readJson, for a body that may be left out: an empty body reads as `{}`. */
export async function readOptionalJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>> {
  const text = await req.text();
  return parseJson(text.trim() === '' ? '{}' : text, schema);
}

function parseJson<S extends z.ZodType>(text: string, schema: S): z.output<S> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 'Request body must be valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw validationError('Request body is invalid', parsed.error);
  }
  return parsed.data;
}
