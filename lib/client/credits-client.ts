/**
 * A dependency-free client of the Credits API for LLM backends (Node 20+, Deno, Bun, browsers: global fetch).
 * Every write is safe to retry: each logical call gets one Idempotency-Key that all of its retries reuse.
 *
 *   const credits = new CreditsClient({ baseUrl: 'https://credits.example.com', apiKey: process.env.CREDITS_KEY! });
 *   const { value } = await credits.withReservation('user-42', '0.5', async () => {
 *     const answer = await callModel();
 *     return { amount: costOf(answer), value: answer };
 *   });
 */
import { send, type Call, type CallOptions, type TransportOptions } from './transport.ts';
import type {
  AccountBalance,
  AllocationInput,
  CallFacts,
  CatalogPage,
  Commit,
  CommitInput,
  Estimate,
  EstimateInput,
  EstimateText,
  CreateUserInput,
  Credits,
  Grant,
  GrantInput,
  Metadata,
  Move,
  OrgPricing,
  OrgPricingInput,
  Release,
  Reservation,
  ReservationState,
  ReserveInput,
  TokenCounts,
  TransactionFilter,
  TransactionPage,
  TransferInput,
  UsageBatch,
  UsageEvent,
  UsageRecordFilter,
  UsageRecordPage,
  UsageResult,
  User,
} from './types.ts';

export type CreditsClientOptions = {
  /** Where the app runs, e.g. "https://credits.example.com" (the /api/v1 paths are added). */
  baseUrl: string;
  /** An API key of the org (`cr_...`). */
  apiKey: string;
  /** Retries after the first attempt; 3 by default. */
  maxRetries?: number;
  /** Limit per attempt; none by default. */
  timeoutMs?: number;
  /** First backoff step; 250 ms by default, doubling each retry. */
  retryBaseDelayMs?: number;
  /** Longest wait between attempts; 30 s by default. */
  maxRetryDelayMs?: number;
};

export type { CallOptions };

/** What the work inside `withReservation` answers: its real cost and its own result. */
export type ReservationOutcome<T> = { amount: Credits; value: T; metadata?: Metadata };

/** What the work inside `withModelReservation` answers: the tokens the model reported and its own result. */
export type ModelReservationOutcome<T> = { usage: TokenCounts; value: T; metadata?: Metadata };

export class CreditsClient {
  private readonly transport: TransportOptions;

  constructor(options: CreditsClientOptions) {
    if (!options.baseUrl) throw new TypeError('baseUrl is required');
    if (!options.apiKey) throw new TypeError('apiKey is required');
    const maxRetries = options.maxRetries ?? 3;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError('maxRetries must be an integer >= 0');
    this.transport = {
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      maxRetries,
      timeoutMs: options.timeoutMs,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 250,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      userAgent: 'credits-client/1',
    };
  }

  private call<T>(call: Call, options?: CallOptions): Promise<T> {
    return send<T>(this.transport, call, options);
  }

  /** Sets credits aside before an LLM call; throws CreditsApiError `insufficient_credits` (402) when short. */
  reserve(input: ReserveInput, options?: CallOptions): Promise<Reservation> {
    return this.call({ method: 'POST', path: '/api/v1/reservations', body: input }, options);
  }

  /** Charges the real cost; the unused part of the hold goes back. */
  commit(reservationId: string, input: CommitInput, options?: CallOptions): Promise<Commit> {
    return this.call({ method: 'POST', path: `/api/v1/reservations/${encodeURIComponent(reservationId)}/commit`, body: input }, options);
  }

  /**
   * Gives the whole hold back (the call failed or never happened); `facts` may tell the call's request id,
   * latency and status (`cancelled` unless given) for its usage record.
   */
  release(reservationId: string, facts: CallFacts = {}, options?: CallOptions): Promise<Release> {
    return this.call({ method: 'POST', path: `/api/v1/reservations/${encodeURIComponent(reservationId)}/release`, body: facts }, options);
  }

  /** What a request to a model will probably cost; nothing is held. */
  estimate(input: EstimateInput, options?: CallOptions): Promise<Estimate> {
    return this.call({ method: 'POST', path: '/api/v1/estimate', body: input }, options);
  }

  getReservation(reservationId: string, options?: CallOptions): Promise<ReservationState> {
    return this.call({ method: 'GET', path: `/api/v1/reservations/${encodeURIComponent(reservationId)}` }, options);
  }

  /** Usage that already happened; an event id is charged once however often it is sent. */
  recordUsage(event: UsageEvent, options?: CallOptions): Promise<UsageResult> {
    return this.call({ method: 'POST', path: '/api/v1/usage', body: event }, options);
  }

  /** Up to 1000 events; the answer says per event whether it was charged, a duplicate or rejected. */
  recordUsageBatch(events: UsageEvent[], options?: CallOptions): Promise<UsageBatch> {
    return this.call({ method: 'POST', path: '/api/v1/usage/batch', body: { events } }, options);
  }

  /** The pool's balance, or a member's. */
  balance(user?: string, options?: CallOptions): Promise<AccountBalance> {
    return this.call({ method: 'GET', path: '/api/v1/balance', query: { user } }, options);
  }

  grant(input: GrantInput, options?: CallOptions): Promise<Grant> {
    return this.call({ method: 'POST', path: '/api/v1/grants', body: input }, options);
  }

  /** Pool -> member. */
  allocate(input: AllocationInput, options?: CallOptions): Promise<Move> {
    return this.call({ method: 'POST', path: '/api/v1/allocations', body: input }, options);
  }

  /** Member -> pool. */
  reclaim(input: AllocationInput, options?: CallOptions): Promise<Move> {
    return this.call({ method: 'POST', path: '/api/v1/allocations/reclaim', body: input }, options);
  }

  /** Between members, or a member and the pool (an absent side is the pool). */
  transfer(input: TransferInput, options?: CallOptions): Promise<Move> {
    return this.call({ method: 'POST', path: '/api/v1/transfers', body: input }, options);
  }

  /** One page of the journal, newest first; pass `next_cursor` as `cursor` for the next. */
  transactions(filter: TransactionFilter = {}, options?: CallOptions): Promise<TransactionPage> {
    const iso = (v: string | Date | undefined) => (v instanceof Date ? v.toISOString() : v);
    const query = { ...filter, from: iso(filter.from), to: iso(filter.to) };
    return this.call({ method: 'GET', path: '/api/v1/transactions', query }, options);
  }

  /** One record per metered request, newest first. */
  usageRecords(filter: UsageRecordFilter = {}, options?: CallOptions): Promise<UsageRecordPage> {
    const iso = (v: string | Date | undefined) => (v instanceof Date ? v.toISOString() : v);
    const query = { ...filter, from: iso(filter.from), to: iso(filter.to) };
    return this.call({ method: 'GET', path: '/api/v1/usage/records', query }, options);
  }

  /** The price catalog in force now, searchable by model or provider. */
  models(filter: { search?: string; page?: number; limit?: number } = {}, options?: CallOptions): Promise<CatalogPage> {
    return this.call({ method: 'GET', path: '/api/v1/models', query: filter }, options);
  }

  /** The org's pricing in force now. */
  pricing(options?: CallOptions): Promise<OrgPricing> {
    return this.call({ method: 'GET', path: '/api/v1/pricing' }, options);
  }

  /** A new version of the org's prices (admin key). */
  updatePricing(input: OrgPricingInput, options?: CallOptions): Promise<{ id: string; effective_at: string }> {
    return this.call({ method: 'POST', path: '/api/v1/pricing', body: input }, options);
  }

  createUser(input: CreateUserInput, options?: CallOptions): Promise<User> {
    return this.call({ method: 'POST', path: '/api/v1/users', body: input }, options);
  }

  /**
   * Reserves `amount` for `user`, runs `fn`, and commits the amount `fn` answers (its real cost); when `fn`
   * throws, releases the hold and rethrows. A failed release is not reported over `fn`'s error: the hold
   * expires by itself at the end of its TTL.
   */
  async withReservation<T>(
    user: string,
    amount: Credits,
    fn: (reservation: Reservation) => Promise<ReservationOutcome<T>>,
    options: { ttl_seconds?: number; metadata?: Metadata; signal?: AbortSignal } = {},
  ): Promise<{ value: T; reservation: Reservation; commit: Commit }> {
    const reservation = await this.reserve(
      { user, amount, ttl_seconds: options.ttl_seconds, metadata: options.metadata },
      { signal: options.signal },
    );
    let outcome: ReservationOutcome<T>;
    try {
      outcome = await fn(reservation);
    } catch (err) {
      await this.release(reservation.id, { status: 'error' }).catch(() => undefined);
      throw err;
    }
    const commit = await this.commit(reservation.id, { amount: outcome.amount, metadata: outcome.metadata });
    return { value: outcome.value, reservation, commit };
  }

  /**
   * Like `withReservation`, priced by the server: holds the estimated cost of a request to `request.model`,
   * runs `fn`, and commits the tokens `fn` answers (the server prices them); releases when `fn` throws.
   */
  async withModelReservation<T>(
    user: string,
    request: { model: string; provider?: string; estimate: EstimateText },
    fn: (reservation: Reservation) => Promise<ModelReservationOutcome<T>>,
    options: { ttl_seconds?: number; metadata?: Metadata; signal?: AbortSignal } = {},
  ): Promise<{ value: T; reservation: Reservation; commit: Commit }> {
    const reservation = await this.reserve(
      { user, ...request, ttl_seconds: options.ttl_seconds, metadata: options.metadata },
      { signal: options.signal },
    );
    let outcome: ModelReservationOutcome<T>;
    try {
      outcome = await fn(reservation);
    } catch (err) {
      await this.release(reservation.id, { status: 'error' }).catch(() => undefined);
      throw err;
    }
    const usage = { model: request.model, provider: request.provider, ...outcome.usage };
    const commit = await this.commit(reservation.id, { usage, metadata: outcome.metadata });
    return { value: outcome.value, reservation, commit };
  }
}
