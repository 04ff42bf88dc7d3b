import { beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../db/pg.ts';
import { pgRunner } from '../ledger/apply.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { grantCredits } from '../ledger/credits.ts';
import { getBalance, checkLedger } from '../ledger/queries.ts';
import { updateOrgPolicy } from '../ledger/policies.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from './create-user.ts';

const system = { type: 'system' } as const;
let t: TestDatabase;
let ctx: LedgerContext;

beforeAll(async () => {
  t = await useTestDatabase();
  ctx = { db: t.db, run: pgRunner(createPgPool(t.url, 4)) };
});

describe('automatic allocation for new members', () => {
  it('gives every new member the org policy amount from the pool, in the join', async () => {
    const org = await createOrg(t.db, { slug: 'auto-alloc', name: 'Auto' }, system);
    await grantCredits(ctx, org.id, { amount: 100_000_000n, reason: 'seed' }, system);
    await updateOrgPolicy(ctx, org.id, { auto_allocation: 5_000_000n }, system);

    const { user } = await createUser(t.db, { email: 'new@auto.test', org: { id: org.id, role: 'member' } }, system);

    expect((await getBalance(ctx, org.id, user.id)).available).toBe('5');
    expect((await getBalance(ctx, org.id)).available).toBe('95');
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('lets the member join without credits when the pool cannot cover them, and says why', async () => {
    const org = await createOrg(t.db, { slug: 'auto-empty', name: 'Empty' }, system);
    await updateOrgPolicy(ctx, org.id, { auto_allocation: 5_000_000n }, system);

    const { user } = await createUser(t.db, { email: 'poor@auto.test', org: { id: org.id, role: 'member' } }, system);

    expect((await getBalance(ctx, org.id, user.id)).available).toBe('0');
    const audit = await t.db.auditLog.findFirst({ where: { orgId: org.id, action: 'allocation.auto_skipped' } });
    expect(audit?.data).toMatchObject({ amount: '5', reason: 'insufficient_credits' });
  });

  it('allocates nothing when the org has no automatic allocation', async () => {
    const org = await createOrg(t.db, { slug: 'auto-none', name: 'None' }, system);
    await grantCredits(ctx, org.id, { amount: 10_000_000n, reason: 'seed' }, system);
    const { user } = await createUser(t.db, { email: 'plain@auto.test', org: { id: org.id, role: 'member' } }, system);
    expect((await getBalance(ctx, org.id, user.id)).available).toBe('0');
    expect((await getBalance(ctx, org.id)).available).toBe('10');
  });
});
