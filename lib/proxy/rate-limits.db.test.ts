import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, type PgPool } from '../db/pg.ts';
import { pgRunner } from '../ledger/apply.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { ProxyRateLimiter } from './rate-limits.ts';
import { defaultProxySettings } from './settings.ts';
import { outcomes, subject, twoProcessRace, unlimited } from './testing/rate-limit-cases.ts';

let database: TestDatabase;
let pool: PgPool;
let limiter: ProxyRateLimiter;

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 10);
  limiter = new ProxyRateLimiter(pgRunner(pool));
});
afterAll(async () => {
  await pool.end();
  await database.db.$disconnect();
});

describe('requests per minute', () => {
  it('admits up to the key limit and refuses the rest with a retry time', async () => {
    const s = subject();
    const { admitted, refused } = await outcomes(Array.from({ length: 8 }, () => limiter.admit({ ...unlimited, keyRequestsPerMinute: 5 }, s, 10)));
    expect(admitted).toBe(5);
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ code: 'rate_limited', details: { limit: 'api_key', kind: 'rpm' } });
    expect(refused[0].details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused[0].details.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('counts per user across keys, and a refusal counts nowhere', async () => {
    const s = subject();
    const limits = { ...unlimited, userRequestsPerMinute: 2, keyRequestsPerMinute: 100 };
    await limiter.admit(limits, s, 0);
    await limiter.admit(limits, { ...s, apiKeyId: randomUUID() }, 0);
    await expect(limiter.admit(limits, { ...s, apiKeyId: randomUUID() }, 0)).rejects.toMatchObject({ details: { limit: 'user' } });
    const [row] = (await pool.query(`SELECT count FROM proxy_rate_windows WHERE bucket = $1`, [`key:${s.apiKeyId}:rpm`])).rows;
    expect(Number(row.count)).toBe(1);
    expect(await limiter.admit(limits, { ...s, user: 'bob' }, 0)).toBeDefined();
  });

  it('holds across two processes on one database', async () => {
    const race = await twoProcessRace(database.url, 'counted');
    expect(race.admitted).toBe(30);
    expect(race.refused).toBe(50);
  }, 120_000);
});

describe('tokens per minute', () => {
  it('admits at the estimate and corrects to the real use', async () => {
    const s = subject();
    const limits = { ...unlimited, keyTokensPerMinute: 1000 };
    const first = await limiter.admit(limits, s, 900);
    await expect(limiter.admit(limits, s, 200)).rejects.toMatchObject({ details: { kind: 'tpm' } });
    await limiter.finish(first, 100);
    await limiter.admit(limits, s, 800);
    await expect(limiter.admit(limits, s, 200)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('admits a request larger than the whole limit into an empty window', async () => {
    const s = subject();
    await limiter.admit({ ...unlimited, userTokensPerMinute: 100 }, s, 5000);
    await expect(limiter.admit({ ...unlimited, userTokensPerMinute: 100 }, s, 1)).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('under contention', () => {
  it('admits and finishes many requests of one key and user at once without deadlocks', async () => {
    const s = subject();
    const limits = { ...unlimited, keyRequestsPerMinute: 100_000, keyTokensPerMinute: 10_000_000, userTokensPerMinute: 10_000_000, userConcurrentRequests: 1000 };
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const admission = await limiter.admit(limits, s, 100 + i);
        await limiter.finish(admission, 50);
      }),
    );
    const rows = (await pool.query(`SELECT bucket, count FROM proxy_rate_windows WHERE bucket LIKE $1 ORDER BY bucket`, [`%${s.apiKeyId}%`])).rows;
    expect(rows.find((r) => r.bucket.endsWith(':tpm'))?.count).toBe('3000');
  });
});

describe('concurrent requests', () => {
  it('frees a slot when the request finishes', async () => {
    const s = subject();
    const limits = { ...unlimited, userConcurrentRequests: 2 };
    const a = await limiter.admit(limits, s, 0);
    await limiter.admit(limits, s, 0);
    await expect(limiter.admit(limits, s, 0)).rejects.toMatchObject({ details: { kind: 'concurrent', limit: 'user' } });
    await limiter.finish(a, 0);
    await limiter.admit(limits, s, 0);
  });

  it("frees a crashed instance's slot when its lease runs out, unless it was extended", async () => {
    const short = new ProxyRateLimiter(pgRunner(pool), 1);
    const s = subject();
    const limits = { ...unlimited, keyConcurrentRequests: 1 };
    const held = await short.admit(limits, s, 0);
    await new Promise((r) => setTimeout(r, 600));
    await short.extend(held);
    await new Promise((r) => setTimeout(r, 600));
    await expect(short.admit(limits, s, 0)).rejects.toMatchObject({ code: 'rate_limited' });
    await new Promise((r) => setTimeout(r, 600));
    await short.admit(limits, s, 0);
  });

  it('takes back the window counts of a request refused for concurrency', async () => {
    const s = subject();
    const limits = { ...unlimited, keyRequestsPerMinute: 10, keyConcurrentRequests: 1 };
    await limiter.admit(limits, s, 0);
    await expect(limiter.admit(limits, s, 0)).rejects.toMatchObject({ details: { kind: 'concurrent' } });
    const [row] = (await pool.query(`SELECT count FROM proxy_rate_windows WHERE bucket = $1`, [`key:${s.apiKeyId}:rpm`])).rows;
    expect(Number(row.count)).toBe(1);
  });

  it('applies nothing for unlimited settings and the defaults otherwise', async () => {
    const s = subject();
    for (let i = 0; i < 20; i++) await limiter.admit(unlimited, s, 1_000_000);
    const d = defaultProxySettings.limits;
    const held = await Promise.all(Array.from({ length: d.userConcurrentRequests! }, () => limiter.admit(d, s, 1)));
    await expect(limiter.admit(d, s, 1)).rejects.toMatchObject({ code: 'rate_limited' });
    await Promise.all(held.map((h) => limiter.finish(h, 1)));
  });
});
