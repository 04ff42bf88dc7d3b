/**
 * Rate limits admitted from claimed capacity: the same limits as counting every request in the database, exact
 * across processes, with tokens corrected to the real use, slots freed when requests end, given back when no
 * longer needed and lapsing with their lease when their instance dies.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, type PgPool } from '../db/pg.ts';
import { pgRunner } from '../ledger/apply.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { ClaimedRateLimiter } from './claimed-rate-limits.ts';
import { outcomes, subject, twoProcessRace, unlimited } from './testing/rate-limit-cases.ts';

let database: TestDatabase;
let pool: PgPool;
const limiters: ClaimedRateLimiter[] = [];

/** An app instance's limiter. */
const instance = (...args: ConstructorParameters<typeof ClaimedRateLimiter> extends [unknown, ...infer R] ? R : never) => {
  const limiter = new ClaimedRateLimiter(pgRunner(pool), ...args);
  limiters.push(limiter);
  return limiter;
};
/**
 * An instance whose statements are counted (sent, and answered), started within one minute of the database's
 * clock with a few seconds to spare: a new minute starts with a claim of its own.
 */
async function countingInstance() {
  if (new Date().getSeconds() >= 57) await new Promise((r) => setTimeout(r, 4_000));
  const sql = { sent: 0, answered: 0 };
  const run = pgRunner(pool);
  const limiter = new ClaimedRateLimiter((text, params) => (sql.sent++, run(text, params).finally(() => sql.answered++)));
  limiters.push(limiter);
  return { limiter, sql };
}
const slotsHeld = async (bucket: string) => Number((await pool.query('SELECT count(*) AS n FROM proxy_concurrency_slots WHERE bucket = $1', [bucket])).rows[0].n);

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 10);
});
afterAll(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  await pool.end();
  await database.db.$disconnect();
});

describe('requests per minute from claimed capacity', () => {
  it('admits up to the limit and refuses the rest with a retry time', async () => {
    const limiter = instance();
    const s = subject();
    const burst = await outcomes(Array.from({ length: 8 }, () => limiter.admit({ ...unlimited, keyRequestsPerMinute: 5 }, s, 10)));
    expect(burst.admitted).toBe(5);
    expect(burst.refused).toHaveLength(3);
    expect(burst.refused[0]).toMatchObject({ code: 'rate_limited', details: { limit: 'api_key', kind: 'rpm' } });
    expect(burst.refused[0].details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(burst.refused[0].details.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('admits most requests without the database, and never more than the limit across instances', async () => {
    const s = subject();
    const limits = { ...unlimited, keyRequestsPerMinute: 160, userRequestsPerMinute: 1000 };
    const [a, b] = [instance(), instance()];
    const both = await outcomes(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).admit(limits, s, 1)));
    expect(both.admitted).toBe(100);
    // Counted in claims of a sixteenth of the limit (ten requests), at most one claim ahead per instance.
    const counted = async () => Number((await pool.query('SELECT count FROM proxy_rate_windows WHERE bucket = $1', [`key:${s.apiKeyId}:rpm`])).rows[0].count);
    expect(await counted()).toBeLessThanOrEqual(120);
    const rest = await outcomes(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).admit(limits, s, 1)));
    // Never beyond the limit; short of it by at most what one instance claimed and the other needed.
    expect(rest.admitted).toBeLessThanOrEqual(60);
    expect(rest.admitted).toBeGreaterThanOrEqual(50);
    expect(await counted()).toBe(160);
  });

  it('claims the next share before the current one runs out, so requests do not wait for the database', async () => {
    const { limiter, sql } = await countingInstance();
    const s = subject();
    // Claims of ten requests; the next is claimed once fewer than two are left.
    const limits = { ...unlimited, keyRequestsPerMinute: 160 };
    const counted = async () => Number((await pool.query('SELECT coalesce(sum(count), 0) AS n FROM proxy_rate_windows WHERE bucket = $1', [`key:${s.apiKeyId}:rpm`])).rows[0].n);
    for (let i = 0; i < 9; i++) await limiter.admit(limits, s, 1);
    await expect.poll(counted).toBe(20);
    const before = sql.sent;
    for (let i = 0; i < 9; i++) await limiter.admit(limits, s, 1);
    expect(sql.sent).toBe(before);
  });

  it('does not claim ahead again for a while once the database had nothing more to give', async () => {
    const { limiter, sql } = await countingInstance();
    const s = subject();
    // Claims of forty requests, the next claimed once fewer than ten are left; other instances have taken all
    // but forty of this minute.
    const limits = { ...unlimited, keyRequestsPerMinute: 640 };
    await pool.query("INSERT INTO proxy_rate_windows (bucket, window_start, count) VALUES ($1, date_trunc('minute', clock_timestamp()), 600)", [`key:${s.apiKeyId}:rpm`]);
    for (let i = 0; i < 31; i++) await limiter.admit(limits, s, 1);
    // The claim ahead after the 31st gets nothing: the next requests are admitted from what is left without it.
    await expect.poll(() => sql.answered).toBe(2);
    for (let i = 0; i < 9; i++) await limiter.admit(limits, s, 1);
    expect(sql.sent).toBe(2);
    await expect(limiter.admit(limits, s, 1)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('claims for many users at once together, each exactly', async () => {
    const limiter = instance();
    const orgId = randomUUID();
    const apiKeyId = randomUUID();
    const limits = { ...unlimited, userRequestsPerMinute: 1 };
    const users = Array.from({ length: 40 }, (_, i) => ({ orgId, apiKeyId, user: `u${i}` }));
    const first = await outcomes(users.map((s) => limiter.admit(limits, s, 0)));
    expect(first.admitted).toBe(40);
    const again = await outcomes(users.map((s) => limiter.admit(limits, s, 0)));
    expect(again.admitted).toBe(0);
    expect(again.refused.every((e) => e.details.limit === 'user' && e.details.kind === 'rpm')).toBe(true);
  });

  it('holds across two processes on one database', async () => {
    const race = await twoProcessRace(database.url, 'claimed');
    expect(race.admitted).toBe(30);
    expect(race.refused).toBe(50);
  }, 120_000);
});

describe('tokens per minute from claimed capacity', () => {
  it('admits at the estimate and corrects to the real use', async () => {
    const limiter = instance();
    const s = subject();
    const limits = { ...unlimited, keyTokensPerMinute: 1000 };
    const first = await limiter.admit(limits, s, 900);
    await expect(limiter.admit(limits, s, 200)).rejects.toMatchObject({ details: { kind: 'tpm' } });
    await limiter.finish(first, 100);
    const second = await limiter.admit(limits, s, 800);
    await expect(limiter.admit(limits, s, 200)).rejects.toMatchObject({ code: 'rate_limited' });
    // Used beyond its estimate: owed, so less is admitted after it.
    await limiter.finish(second, 850);
    await expect(limiter.admit(limits, s, 100)).rejects.toMatchObject({ code: 'rate_limited' });
    await limiter.admit(limits, s, 50);
  });

  it('admits a request larger than the whole limit into an empty window', async () => {
    const limiter = instance();
    const s = subject();
    await limiter.admit({ ...unlimited, userTokensPerMinute: 100 }, s, 5000);
    await expect(limiter.admit({ ...unlimited, userTokensPerMinute: 100 }, s, 1)).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('concurrent requests from claimed slots', () => {
  it('frees a slot when the request finishes, and refuses beyond the limit across instances', async () => {
    const [a, b] = [instance(), instance()];
    const s = subject();
    const limits = { ...unlimited, userConcurrentRequests: 2 };
    const first = await a.admit(limits, s, 0);
    await b.admit(limits, s, 0);
    await expect(a.admit(limits, s, 0)).rejects.toMatchObject({ details: { kind: 'concurrent', limit: 'user' } });
    await expect(b.admit(limits, s, 0)).rejects.toMatchObject({ details: { kind: 'concurrent' } });
    await a.finish(first, 0);
    await a.admit(limits, s, 0);
  });

  it('gives back slots it no longer needs, so another instance may use them', async () => {
    const [a, b] = [instance(60, { tickMs: 50 }), instance(60, { tickMs: 50 })];
    const s = subject();
    const limits = { ...unlimited, keyConcurrentRequests: 16 };
    const held = await Promise.all(Array.from({ length: 16 }, () => a.admit(limits, s, 0)));
    await expect(b.admit(limits, s, 0)).rejects.toMatchObject({ details: { kind: 'concurrent' } });
    await Promise.all(held.map((h) => a.finish(h, 0)));
    await new Promise((r) => setTimeout(r, 200));
    expect(await slotsHeld(`key:${s.apiKeyId}:concurrent`)).toBe(0);
    await b.admit(limits, s, 0);
    // All of its slots go back when it stops.
    await b.close();
    expect(await slotsHeld(`key:${s.apiKeyId}:concurrent`)).toBe(0);
  });

  it('claims slots before they run out, keeps a spare while the bucket is in use, and gives it back once idle', async () => {
    const limiter = instance(60, { tickMs: 50, spareIdleMs: 2_000 });
    const s = subject();
    // Claims of 64 slots, a spare of 16; more are claimed once fewer than 8 are free.
    const limits = { ...unlimited, keyConcurrentRequests: 1000 };
    const bucket = `key:${s.apiKeyId}:concurrent`;
    const held = await Promise.all(Array.from({ length: 57 }, () => limiter.admit(limits, s, 0)));
    await expect.poll(() => slotsHeld(bucket)).toBeGreaterThan(64);
    await Promise.all(held.map((h) => limiter.finish(h, 0)));
    // The peak past, the spare stays for the next requests...
    await expect.poll(() => slotsHeld(bucket)).toBe(16);
    // ...and goes back when no request used the bucket for a while.
    await expect.poll(() => slotsHeld(bucket), { timeout: 5_000 }).toBe(0);
  });

  it("renews the slots it holds, and a stopped instance's slots lapse with their lease", async () => {
    const s = subject();
    const limits = { ...unlimited, keyConcurrentRequests: 1 };
    const running = instance(1, { tickMs: 100 });
    await running.admit(limits, s, 0);
    await new Promise((r) => setTimeout(r, 1300));
    await expect(instance(1).admit(limits, s, 0)).rejects.toMatchObject({ code: 'rate_limited' });

    const other = subject();
    // No tick within the lease: as an instance that died.
    const dead = instance(1, { tickMs: 60_000 });
    await dead.admit(limits, other, 0);
    await expect(instance(1).admit(limits, other, 0)).rejects.toMatchObject({ code: 'rate_limited' });
    await new Promise((r) => setTimeout(r, 1200));
    await instance(1).admit(limits, other, 0);
  });

  it('admits and finishes many requests of one key and user at once', async () => {
    const limiter = instance();
    const s = subject();
    const limits = { ...unlimited, keyRequestsPerMinute: 100_000, keyTokensPerMinute: 10_000_000, userTokensPerMinute: 10_000_000, userConcurrentRequests: 1000 };
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const admission = await limiter.admit(limits, s, 100 + i);
        await limiter.finish(admission, 50);
      }),
    );
    expect(await slotsHeld(`user:${s.orgId}:ada:concurrent`)).toBeGreaterThan(0);
  });
});
