/**
 * Rate limits of proxied requests, per API key and per end user: requests per minute, tokens per minute and
 * requests in flight. The counting is in PostgreSQL (the functions proxy_admit, proxy_finish and
 * proxy_extend_slots of the proxy migration), so the limits hold across every app instance on one database;
 * each call is one statement. Tokens are admitted at an estimate (prompt plus the most the reply may use) and
 * corrected to the real use when the request ends. A request in flight holds a slot with a lease that is
 * extended while it runs: when an instance dies its slots free themselves after the lease.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../http/errors.ts';
import type { SqlRunner } from '../ledger/apply.ts';
import type { ProxyLimits } from './settings.ts';

export type RateLimitSubject = { orgId: string; apiKeyId: string; user: string };

export type Admission = {
  slot: string;
  window: string;
  /** The token buckets with the estimate each admitted. */
  tokenBuckets: { name: string; amount: number }[];
};

type Bucket = { name: string; amount: number; limit: number };

export const DEFAULT_LEASE_SECONDS = 60;

function buckets(limits: ProxyLimits, s: RateLimitSubject, tokens: number) {
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

export class ProxyRateLimiter {
  constructor(
    private readonly run: SqlRunner,
    private readonly leaseSeconds = DEFAULT_LEASE_SECONDS,
  ) {}

  /** Admits the request or throws AppError rate_limited with `retryAfterSeconds`. */
  async admit(limits: ProxyLimits, subject: RateLimitSubject, estimatedTokens: number): Promise<Admission> {
    const tokens = Math.max(0, Math.ceil(estimatedTokens));
    const { windows, slots } = buckets(limits, subject, tokens);
    const slot = randomUUID();
    const [row] = await this.run('SELECT proxy_admit($1::text[], $2::bigint[], $3::bigint[], $4::uuid, $5::text[], $6::bigint[], $7) AS r', [
      windows.map((b) => b.name),
      windows.map((b) => b.amount),
      windows.map((b) => b.limit),
      slot,
      slots.map((b) => b.name),
      slots.map((b) => b.limit),
      this.leaseSeconds,
    ]);
    const result = (typeof row.r === 'string' ? JSON.parse(row.r) : row.r) as
      | { admitted: true; window: string }
      | { admitted: false; bucket: string; retry_after_ms: number };
    if (!result.admitted) {
      const retryAfterSeconds = Math.max(1, Math.ceil(Number(result.retry_after_ms) / 1000));
      throw new AppError('rate_limited', `Rate limit reached: ${describeBucket(result.bucket)}. Retry after ${retryAfterSeconds} s.`, {
        retryAfterSeconds,
        limit: result.bucket.startsWith('key:') ? 'api_key' : 'user',
        kind: result.bucket.slice(result.bucket.lastIndexOf(':') + 1),
      });
    }
    const tokenBuckets = windows.filter((b) => b.name.endsWith(':tpm')).map((b) => ({ name: b.name, amount: b.amount }));
    return { slot, window: result.window, tokenBuckets };
  }

  /** Ends the request: frees its slots and counts the tokens it really used instead of the estimate. */
  async finish(admission: Admission, usedTokens: number): Promise<void> {
    const used = Math.max(0, Math.ceil(usedTokens));
    await this.run('SELECT proxy_finish($1::uuid, $2::timestamptz, $3::text[], $4::bigint[])', [
      admission.slot,
      admission.window,
      admission.tokenBuckets.map((b) => b.name),
      admission.tokenBuckets.map((b) => used - b.amount),
    ]);
  }

  /** Extends the lease of a long request's slots. */
  async extend(admission: Admission): Promise<void> {
    await this.run('SELECT proxy_extend_slots($1::uuid, $2)', [admission.slot, this.leaseSeconds]);
  }

  get lease(): number {
    return this.leaseSeconds;
  }
}
