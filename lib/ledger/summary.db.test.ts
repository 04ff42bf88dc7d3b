import { beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../db/pg.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { pgRunner } from './apply.ts';
import type { LedgerContext } from './context.ts';
import { allocateCredits, grantCredits, reclaimCredits } from './credits.ts';
import { recordUsage, reserveCredits } from './metering.ts';
import { getLedgerSummary, listMemberBalances } from './summary.ts';

const system = { type: 'system' } as const;
const C = 1_000_000n;
let t: TestDatabase;
let ctx: LedgerContext;

beforeAll(async () => {
  t = await useTestDatabase();
  ctx = { db: t.db, run: pgRunner(createPgPool(t.url, 4)) };
});

async function member(orgId: string, email: string) {
  const { user, membership } = await createUser(t.db, { email, org: { id: orgId, role: 'member' } }, system);
  return { userId: user.id, membershipId: membership!.id };
}

describe('getLedgerSummary', () => {
  it('is all zeros for an org without credits', async () => {
    const org = await createOrg(t.db, { slug: 'sum-empty', name: 'Empty' }, system);
    await member(org.id, 'nobody@sum.test');
    expect(await getLedgerSummary(ctx, org.id)).toEqual({
      pool: { balance: 0n, held: 0n, debt: 0n, available: 0n },
      members: { balance: 0n, held: 0n, debt: 0n, available: 0n, withCredits: 0 },
      consumed: 0n,
      hasActivity: false,
    });
    expect(await listMemberBalances(ctx, org.id)).toEqual(
      new Map([[expect.any(String), { balance: 0n, held: 0n, debt: 0n, available: 0n }]]),
    );
  });

  it('sums the pool, the members and the charges of the last 30 days, of this org only', async () => {
    const org = await createOrg(t.db, { slug: 'sum-acme', name: 'Acme' }, system);
    const other = await createOrg(t.db, { slug: 'sum-other', name: 'Other' }, system);
    const ada = await member(org.id, 'ada@sum.test');
    const bob = await member(org.id, 'bob@sum.test');
    await member(org.id, 'cy@sum.test');
    const olga = await member(other.id, 'olga@sum.test');

    await grantCredits(ctx, org.id, { amount: 100n * C, reason: 'budget' }, system);
    await allocateCredits(ctx, org.id, { user: ada.userId, amount: 30n * C }, system);
    await allocateCredits(ctx, org.id, { user: bob.userId, amount: 5n * C }, system);
    await reserveCredits(ctx, org.id, { user: ada.userId, amount: 2n * C, ttl_seconds: 600 }, system);
    await recordUsage(ctx, org.id, { id: 'ev-now', user: ada.userId, amount: 4n * C }, system);
    // Usage that happened 40 days ago, reported only now: outside the 30 days.
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await recordUsage(ctx, org.id, { id: 'ev-old', user: bob.userId, amount: 1n * C, timestamp: longAgo }, system);
    // Another org's credits and usage count for it alone.
    await grantCredits(ctx, other.id, { amount: 50n * C, reason: 'theirs' }, system);
    await allocateCredits(ctx, other.id, { user: olga.userId, amount: 20n * C }, system);
    await recordUsage(ctx, other.id, { id: 'ev-other', user: olga.userId, amount: 7n * C }, system);

    expect(await getLedgerSummary(ctx, org.id)).toEqual({
      pool: { balance: 65n * C, held: 0n, debt: 0n, available: 65n * C },
      members: { balance: 30n * C, held: 2n * C, debt: 0n, available: 28n * C, withCredits: 2 },
      consumed: 4n * C,
      hasActivity: true,
    });

    const balances = await listMemberBalances(ctx, org.id);
    expect(balances.get(ada.membershipId)).toEqual({ balance: 26n * C, held: 2n * C, debt: 0n, available: 24n * C });
    expect(balances.get(bob.membershipId)).toEqual({ balance: 4n * C, held: 0n, debt: 0n, available: 4n * C });
    expect(balances.has(olga.membershipId)).toBe(false);

    // A member whose allocation is taken back no longer counts as having credits.
    await reclaimCredits(ctx, org.id, { user: bob.userId, amount: 4n * C }, system);
    const after = await getLedgerSummary(ctx, org.id);
    expect(after.members.withCredits).toBe(1);
    expect(after.pool.balance).toBe(69n * C);

    // Seen from 31 days later, today's charge has left the window.
    const later = await getLedgerSummary({ ...ctx, now: () => new Date(Date.now() + 31 * 86_400_000) }, org.id);
    expect(later.consumed).toBe(0n);
  });
});
