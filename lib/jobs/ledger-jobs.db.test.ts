import { beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../db/pg.ts';
import { pgRunner, type SqlRunner } from '../ledger/apply.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { allocateCredits, grantCredits, reclaimCredits } from '../ledger/credits.ts';
import { reserveCredits } from '../ledger/metering.ts';
import { updateOrgPolicy } from '../ledger/policies.ts';
import { checkLedger } from '../ledger/queries.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { purgeIdempotencyKeys, refillAllocations, sweepDueAccounts } from './ledger-jobs.ts';

const system = { type: 'system' } as const;
let t: TestDatabase;
let run: SqlRunner;

async function account(orgId: string, userId: string | null) {
  const where = userId
    ? { orgId, membership: { userId } }
    : { orgId, key: 'pool' };
  return t.db.ledgerAccount.findFirstOrThrow({ where });
}

beforeAll(async () => {
  t = await useTestDatabase();
  run = pgRunner(createPgPool(t.url, 4));
});

describe('ledger jobs', () => {
  it('sweep expired holds and lots of accounts nobody touches', async () => {
    const start = new Date('2030-01-01T00:00:00Z');
    const ctx: LedgerContext = { db: t.db, run, now: () => start };
    const org = await createOrg(t.db, { slug: 'jobs-sweep', name: 'Sweep' }, system);
    const { user } = await createUser(t.db, { email: 'sweep@jobs.test', org: { id: org.id, role: 'member' } }, system);
    await grantCredits(ctx, org.id, { amount: 10_000_000n, reason: 'trial', expires_at: '2030-01-01T01:00:00Z' }, system);
    await allocateCredits(ctx, org.id, { user: user.id, amount: 4_000_000n }, system);
    await reserveCredits(ctx, org.id, { user: user.id, amount: 1_000_000n, ttl_seconds: 60 }, system);

    expect(await sweepDueAccounts(run, { now: new Date('2030-01-01T00:00:30Z') })).toBe(0);
    expect(await sweepDueAccounts(run, { now: new Date('2030-01-01T02:00:00Z') })).toBe(2);

    const member = await account(org.id, user.id);
    const pool = await account(org.id, null);
    expect([member.balance, member.held, pool.balance]).toEqual([0n, 0n, 0n]);
    expect(await t.db.reservation.count({ where: { orgId: org.id, status: 'expired' } })).toBe(1);
    expect(await checkLedger({ db: t.db, run }, org.id)).toEqual([]);
  });

  it('refill allocations up to the monthly amount once per month', async () => {
    const ctx: LedgerContext = { db: t.db, run };
    const org = await createOrg(t.db, { slug: 'jobs-refill', name: 'Refill' }, system);
    const { user } = await createUser(t.db, { email: 'refill@jobs.test', org: { id: org.id, role: 'member' } }, system);
    await grantCredits(ctx, org.id, { amount: 100_000_000n, reason: 'budget' }, system);
    await allocateCredits(ctx, org.id, { user: user.id, amount: 3_000_000n }, system);
    await updateOrgPolicy(ctx, org.id, { monthly_refill_to: 10_000_000n }, system);

    const november = new Date('2031-11-03T00:00:00Z');
    expect(await refillAllocations(run, { now: november })).toBeGreaterThanOrEqual(1);
    expect((await account(org.id, user.id)).balance).toBe(10_000_000n);
    expect(await refillAllocations(run, { now: november })).toBe(0);
    expect((await account(org.id, user.id)).balance).toBe(10_000_000n);

    // Spent or reclaimed during the month: the next month tops it up again.
    await reclaimCredits(ctx, org.id, { user: user.id, amount: 4_000_000n }, system);
    expect(await refillAllocations(run, { now: new Date('2031-12-01T00:00:00Z') })).toBeGreaterThanOrEqual(1);
    expect((await account(org.id, user.id)).balance).toBe(10_000_000n);
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('purge idempotency keys only after their retention', async () => {
    const org = await createOrg(t.db, { slug: 'jobs-purge', name: 'Purge' }, system);
    await t.db.idempotencyKey.create({
      data: { orgId: org.id, key: 'k1', requestHash: 'h', status: 201, body: {}, expiresAt: new Date('2032-01-02T00:00:00Z') },
    });
    const kept = () => t.db.idempotencyKey.count({ where: { orgId: org.id, key: 'k1' } });
    await purgeIdempotencyKeys(run, { now: new Date('2032-01-01T00:00:00Z') });
    expect(await kept()).toBe(1);
    expect(await purgeIdempotencyKeys(run, { now: new Date('2032-01-03T00:00:00Z') })).toBeGreaterThanOrEqual(1);
    expect(await kept()).toBe(0);
  });
});
