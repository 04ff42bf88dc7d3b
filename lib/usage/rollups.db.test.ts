/**
 * Usage records and rollups under concurrent metering against a real PostgreSQL: every charge has exactly
 * one record, duplicates none, and the hourly rollups equal the sum of the records.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../auth/actor.ts';
import { createPgPool } from '../db/pg.ts';
import { pgRunner } from '../ledger/apply.ts';
import { LedgerCoalescer } from '../ledger/coalescer.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { allocateCredits, grantCredits } from '../ledger/credits.ts';
import { commitReservation, recordUsage, recordUsageBatch, reserveCredits } from '../ledger/metering.ts';
import { checkLedger, getBalance } from '../ledger/queries.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';

const system: Actor = { type: 'system' };
let database: TestDatabase;
let pool: pg.Pool;
let direct: LedgerContext;
let coalesced: LedgerContext;

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 20);
  const run = pgRunner(pool);
  direct = { db: database.db, run };
  coalesced = { db: database.db, run, coalescer: new LedgerCoalescer(run) };
});

afterAll(async () => {
  await pool.end();
  await database.db.$disconnect();
});

async function sums(orgId: string) {
  const q = (sql: string) => database.db.$queryRawUnsafe<Array<Record<string, bigint>>>(sql, orgId);
  const [records] = await q(
    'SELECT count(*)::bigint AS requests, coalesce(sum(cost), 0)::bigint AS cost, coalesce(sum(input_tokens), 0)::bigint AS input, coalesce(sum(output_tokens), 0)::bigint AS output FROM usage_records WHERE org_id = $1::uuid',
  );
  const [rollups] = await q(
    'SELECT coalesce(sum(requests), 0)::bigint AS requests, coalesce(sum(cost), 0)::bigint AS cost, coalesce(sum(input_tokens), 0)::bigint AS input, coalesce(sum(output_tokens), 0)::bigint AS output FROM usage_rollups_hourly WHERE org_id = $1::uuid',
  );
  return { records, rollups };
}

describe('usage records under concurrency', () => {
  it('one record per charge and rollups equal to the records', async () => {
    const orgId = (await createOrg(database.db, { slug: 'rollups', name: 'Rollups' }, system)).id;
    const users = ['u0', 'u1', 'u2', 'u3'];
    for (const externalId of users) await createUser(database.db, { externalId, org: { id: orgId, role: 'member' } }, system);
    await grantCredits(direct, orgId, { amount: 10_000_000_000n, reason: 'seed' }, system);
    for (const user of users) await allocateCredits(direct, orgId, { user, amount: 1_000_000_000n }, system);

    const usage = { model: 'gpt-4o-mini', input_tokens: 1000, output_tokens: 100 };
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `e-${i % 30}`, user: users[i % 4], ...usage }));
    const commits = Array.from({ length: 12 }, async (_, i) => {
      const ctx = i % 2 ? coalesced : direct;
      const held = await reserveCredits(ctx, orgId, { user: users[i % 4], amount: 1_000_000n }, system);
      return commitReservation(ctx, orgId, held.id, { usage }, system);
    });
    await Promise.all([
      ...events.map((e, i) => recordUsage(i % 2 ? coalesced : direct, orgId, e, system).catch((err) => err)),
      recordUsageBatch(direct, orgId, events.slice(0, 20).map((e) => ({ ...e, id: `batch-${e.id}` })), system),
      recordUsageBatch(direct, orgId, events.slice(0, 20).map((e) => ({ ...e, id: `batch-${e.id}` })), system),
      ...commits,
    ]);

    // 1000×0.15 + 100×0.6 = USD 0.00021 = 21,000 micro-credits each
    const distinctEvents = new Set(events.map((e) => e.id)).size + new Set(events.slice(0, 20).map((e) => e.id)).size;
    const { records, rollups } = await sums(orgId);
    expect(records.requests).toBe(BigInt(distinctEvents + 12));
    expect(records.cost).toBe(21_000n * records.requests);
    expect(rollups).toEqual(records);
    const charged = await database.db.$queryRawUnsafe<Array<{ n: bigint }>>(
      `SELECT count(*)::bigint AS n FROM ledger_transactions t
        WHERE t.org_id = $1::uuid AND t.kind = 'charge'
          AND NOT EXISTS (SELECT 1 FROM usage_records r WHERE r.transaction_id = t.id)`,
      orgId,
    );
    expect(charged[0].n).toBe(0n);
    expect(await checkLedger(direct, orgId)).toEqual([]);
  });

  it('records a request whose hold expired unresolved, at no cost, as cancelled', async () => {
    const orgId = (await createOrg(database.db, { slug: 'expired-holds', name: 'Expired' }, system)).id;
    await createUser(database.db, { externalId: 'late', org: { id: orgId, role: 'member' } }, system);
    await grantCredits(direct, orgId, { user: 'late', amount: 1_000_000_000n, reason: 'seed' }, system);
    const start = new Date();
    const held = await reserveCredits(
      direct,
      orgId,
      { user: 'late', model: 'gpt-4o-mini', estimate: { input_tokens: 100, max_output_tokens: 50 }, ttl_seconds: 60 },
      { type: 'system' },
      undefined,
      { request_id: 'req-never-committed' },
    );
    // A minute later the hold has expired; reading the balance sweeps it.
    const later = { ...direct, now: () => new Date(start.getTime() + 61_000) };
    expect((await getBalance(later, orgId, 'late')).reserved).toBe('0');
    const records = await database.db.usageRecord.findMany({ where: { orgId } });
    expect(records).toEqual([
      expect.objectContaining({ reservationId: held.id, status: 'cancelled', cost: 0n, model: 'gpt-4o-mini', requestId: 'req-never-committed', transactionId: null }),
    ]);
    expect(await sums(orgId).then((s) => s.rollups)).toEqual({ requests: 1n, cost: 0n, input: 0n, output: 0n });
    expect(await checkLedger(later, orgId)).toEqual([]);
  });

  it('refuses zero and negative prices whatever writes them', async () => {
    const version = await database.db.priceVersion.create({ data: { note: 'check' } });
    for (const inputNano of [0n, -1n]) {
      await expect(
        database.db.modelPrice.create({
          data: { priceVersionId: version.id, provider: 'p', model: 'm', match: { equals: 'm' }, inputNano, outputNano: 1n },
        }),
      ).rejects.toThrow();
    }
    await expect(database.db.priceVersion.create({ data: { defaultInputNano: 1n } })).rejects.toThrow();
  });
});
