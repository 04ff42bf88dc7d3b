/** The one error the client throws: an API error answer, or a network failure after the last retry. */

export type CreditsErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'reservation_expired'
  | 'reservation_already_committed'
  | 'reservation_already_released'
  | 'commit_exceeds_available'
  | 'event_conflict'
  | 'insufficient_credits'
  | 'idempotency_mismatch'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'
  /** No answer: the connection failed or the attempt timed out (status 0). */
  | 'network_error'
  | 'timeout'
  /** An answer that is not the API's error shape (a proxy's error page, for instance). */
  | 'http_error'
  | (string & {});

export class CreditsApiError extends Error {
  readonly status: number;
  readonly code: CreditsErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** The server's x-request-id, to quote to support; null when there was no answer. */
  readonly requestId: string | null;

  constructor(init: {
    status: number;
    code: CreditsErrorCode;
    message: string;
    details?: Record<string, unknown>;
    requestId?: string | null;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'CreditsApiError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId ?? null;
  }
}

export function isCreditsApiError(err: unknown): err is CreditsApiError {
  return err instanceof CreditsApiError;
}
