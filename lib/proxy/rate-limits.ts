/**
 * Rate limits of proxied requests, per API key and per end user: requests per minute, tokens per minute and
 * requests in flight, counted request by request (PROXY_RATE_LIMITS=counted; by default the proxy admits
 * from capacity it claims, claimed-rate-limits.ts, with the same rules). The counting is in PostgreSQL (the functions proxy_admit, proxy_finish and
 * proxy_extend_slots of the proxy migration), so the limits hold across every app instance on one database;
 * each call is one statement, and under load the admissions (and the ends) that wait for the previous
 * statement share the next one (proxy_admit_batch and proxy_finish_batch; lib/db/statement-batcher.ts). Tokens are
 * admitted at an estimate (prompt plus the most the reply may use) and corrected to the real use when the
 * request ends. A request in flight holds a slot with a lease that is extended while it runs: when an
 * instance dies its slots free themselves after the lease.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../http/errors.ts';
import type { SqlRunner } from '../ledger/apply.ts';
import type { ProxyLimits } from './settings.ts';
import { StatementBatcher } from '../db/statement-batcher.ts';

export type RateLimitSubject = { orgId: string; apiKeyId: string; user: string };

export type Admission = {
  slot: string;
  window: string;
  /** The token buckets with the estimate each admitted. */
  tokenBuckets: { name: string; amount: number }[];
};

export type Bucket = { name: string; amount: number; limit: number };

export const DEFAULT_LEASE_SECONDS = 60;

/** The window buckets (with what the request takes from each) and the slot buckets of a request. */
export function buckets(limits: ProxyLimits, s: RateLimitSubject, tokens: number) {
  const key = `key:${s.apiKeyId}`;
  const user = `user:${s.orgId}:${s.user}`;
  const windows: Bucket[] = [];
  const slots: { name: string; limit: number }[] = [];
  const addWindow = (name: string, amount: number, limit: number | null) => {
    // A request may never need more tokens than a whole minute allows, or it could never be admitted.
    if (limit !== null) windows.push({ name, amount: Math.min(amount, limit), limit });
  };
  addWindow(`${key}:rpm`, 1, limits.keyRequestsPerMinute);
  addWindow(`${key}:tpm`, tokens, limits.keyTokensPerMinute);
  addWindow(`${user}:rpm`, 1, limits.userRequestsPerMinute);
  addWindow(`${user}:tpm`, tokens, limits.userTokensPerMinute);
  if (limits.keyConcurrentRequests !== null) slots.push({ name: `${key}:concurrent`, limit: limits.keyConcurrentRequests });
  if (limits.userConcurrentRequests !== null) slots.push({ name: `${user}:concurrent`, limit: limits.userConcurrentRequests });
  return { windows, slots };
}

const kinds: Record<string, string> = { rpm: 'requests per minute', tpm: 'tokens per minute', concurrent: 'concurrent requests' };

function describeBucket(bucket: string): string {
  const kind = kinds[bucket.slice(bucket.lastIndexOf(':') + 1)] ?? 'requests';
  return `${bucket.startsWith('key:') ? 'API key' : 'user'} limit of ${kind}`;
}

/** The refusal of a request by `bucket`, retried after `retryAfterMs`. */
export function rateLimited(bucket: string, retryAfterMs: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError('rate_limited', `Rate limit reached: ${describeBucket(bucket)}. Retry after ${retryAfterSeconds} s.`, {
    retryAfterSeconds,
    limit: bucket.startsWith('key:') ? 'api_key' : 'user',
    kind: bucket.slice(bucket.lastIndexOf(':') + 1),
  });
}

/** What the proxy needs from rate limiting: admit (or refuse) a request, end it, keep a long one's slots. */
export type RateLimiter = {
  /** Admits the request or throws AppError rate_limited with `retryAfterSeconds`. */
  admit(limits: ProxyLimits, subject: RateLimitSubject, estimatedTokens: number): Promise<Admission>;
  /** Ends the request: frees its slots and counts the tokens it really used instead of the estimate. */
  finish(admission: Admission, usedTokens: number): Promise<void>;
  /** Extends the lease of a long request's slots. */
  extend(admission: Admission): Promise<void>;
  /** Seconds a slot's lease lasts unless extended. */
  readonly lease: number;
  /** Gives back what the limiter holds (graceful shutdown). */
  close?(): Promise<void>;
};

type AdmitCall = { buckets: string[]; amounts: number[]; limits: number[]; slot: string; slot_buckets: string[]; slot_limits: number[]; lease: number };
type FinishCall = { slot: string; window: string; buckets: string[]; adjust: number[] };
type AdmitResult = { admitted: true; window: string } | { admitted: false; bucket: string; retry_after_ms: number };

/** A JSON value as node-postgres returns it: parsed already, or text. */
export const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

export class ProxyRateLimiter implements RateLimiter {
  private readonly admissions: StatementBatcher<AdmitCall, AdmitResult>;
  private readonly ends: StatementBatcher<FinishCall, void>;

  constructor(
    private readonly run: SqlRunner,
    private readonly leaseSeconds = DEFAULT_LEASE_SECONDS,
  ) {
    // Under load, admissions (and ends) waiting for the previous statement go together in the next one.
    this.admissions = new StatementBatcher(
      async (a) => {
        const [row] = await run('SELECT proxy_admit($1::text[], $2::bigint[], $3::bigint[], $4::uuid, $5::text[], $6::bigint[], $7) AS r', [
          a.buckets,
          a.amounts,
          a.limits,
          a.slot,
          a.slot_buckets,
          a.slot_limits,
          a.lease,
        ]);
        return json<AdmitResult>(row.r);
      },
      async (calls) => json<AdmitResult[]>((await run('SELECT proxy_admit_batch($1::jsonb) AS r', [JSON.stringify(calls)]))[0].r),
    );
    this.ends = new StatementBatcher(
      async (f) => {
        await run('SELECT proxy_finish($1::uuid, $2::timestamptz, $3::text[], $4::bigint[])', [f.slot, f.window, f.buckets, f.adjust]);
      },
      async (calls) => {
        await run('SELECT proxy_finish_batch($1::jsonb)', [JSON.stringify(calls)]);
        return calls.map(() => undefined);
      },
    );
  }

  /** Admits the request or throws AppError rate_limited with `retryAfterSeconds`. */
  async admit(limits: ProxyLimits, subject: RateLimitSubject, estimatedTokens: number): Promise<Admission> {
    const tokens = Math.max(0, Math.ceil(estimatedTokens));
    const { windows, slots } = buckets(limits, subject, tokens);
    const slot = randomUUID();
    const result = await this.admissions.submit({
      buckets: windows.map((b) => b.name),
      amounts: windows.map((b) => b.amount),
      limits: windows.map((b) => b.limit),
      slot,
      slot_buckets: slots.map((b) => b.name),
      slot_limits: slots.map((b) => b.limit),
      lease: this.leaseSeconds,
    });
    if (!result.admitted) throw rateLimited(result.bucket, Number(result.retry_after_ms));
    const tokenBuckets = windows.filter((b) => b.name.endsWith(':tpm')).map((b) => ({ name: b.name, amount: b.amount }));
    return { slot, window: result.window, tokenBuckets };
  }

  /** Ends the request: frees its slots and counts the tokens it really used instead of the estimate. */
  async finish(admission: Admission, usedTokens: number): Promise<void> {
    const used = Math.max(0, Math.ceil(usedTokens));
    await this.ends.submit({
      slot: admission.slot,
      window: admission.window,
      buckets: admission.tokenBuckets.map((b) => b.name),
      adjust: admission.tokenBuckets.map((b) => used - b.amount),
    });
  }

  /** Extends the lease of a long request's slots. */
  async extend(admission: Admission): Promise<void> {
    await this.run('SELECT proxy_extend_slots($1::uuid, $2)', [admission.slot, this.leaseSeconds]);
  }

  get lease(): number {
    return this.leaseSeconds;
  }
}
