/**
 * The one error type of the domain and the one table that maps its codes to HTTP. Callers branch on `code`,
 * never on message text.
 */

export const errorStatus = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  conflict: 409,
  reservation_expired: 409,
  reservation_already_committed: 409,
  reservation_already_released: 409,
  commit_exceeds_available: 409,
  event_conflict: 409,
  insufficient_credits: 402,
  idempotency_mismatch: 422,
  unknown_model: 422,
  rate_limited: 429,
  unavailable: 503,
  upstream_error: 502,
  upstream_timeout: 504,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

/** 422 validation_failed listing where and why an input did not fit its zod schema. */
export function validationError(
  message: string,
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; code: string; message: string }> },
): AppError {
  return new AppError('validation_failed', message, {
    issues: error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), code: issue.code, message: issue.message })),
  });
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

export type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

/** The JSON body for an error; anything that is not an AppError becomes a generic `internal` error. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (isAppError(err)) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details) body.error.details = err.details;
    return { status: err.status, body };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'Internal server error' } } };
}
