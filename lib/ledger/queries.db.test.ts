import { beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../db/pg.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { pgRunner } from './apply.ts';
import type { LedgerContext } from './context.ts';
import { allocateCredits, grantCredits, transferCredits } from './credits.ts';
import { checkLedger, listTransactions } from './queries.ts';

const system = { type: 'system' } as const;
let t: TestDatabase;
let ctx: LedgerContext;

beforeAll(async () => {
  t = await useTestDatabase();
  ctx = { db: t.db, run: pgRunner(createPgPool(t.url, 2)) };
});

describe('listTransactions', () => {
  it('filters to the pool, to a member, or pages through the whole org', async () => {
    const org = await createOrg(t.db, { slug: 'journal', name: 'Journal' }, system);
    const a = (await createUser(t.db, { externalId: 'ja', org: { id: org.id, role: 'member' } }, system)).user.id;
    const b = (await createUser(t.db, { externalId: 'jb', org: { id: org.id, role: 'member' } }, system)).user.id;
    await grantCredits(ctx, org.id, { amount: 10_000_000n, reason: 'seed' }, system);
    await allocateCredits(ctx, org.id, { user: a, amount: 4_000_000n }, system);
    await transferCredits(ctx, org.id, { from_user: a, to_user: b, amount: 1_000_000n }, system);

    const pool = await listTransactions(ctx, org.id, { pool: true });
    expect(pool.data.map((x) => [x.kind, x.amount])).toEqual([['allocation', '-4'], ['grant', '10']]);

    const member = await listTransactions(ctx, org.id, { user: b });
    expect(member.data.map((x) => [x.kind, x.amount])).toEqual([['transfer', '1']]);

    const first = await listTransactions(ctx, org.id, { limit: 2 });
    expect(first.data.map((x) => x.kind)).toEqual(['transfer', 'allocation']);
    const second = await listTransactions(ctx, org.id, { limit: 2, cursor: first.next_cursor! });
    expect(second.data.map((x) => x.kind)).toEqual(['grant']);
    expect(second.next_cursor).toBeNull();
  });
});

describe('checkLedger', () => {
  it('finds an entry naming an account or a lot its org does not have', async () => {
    const org = await createOrg(t.db, { slug: 'orphans', name: 'Orphans' }, system);
    await grantCredits(ctx, org.id, { amount: 1_000_000n, reason: 'seed' }, system);
    expect(await checkLedger(ctx, org.id)).toEqual([]);
    const [grant] = (await listTransactions(ctx, org.id)).data;
    // Two entries that sum to zero (the zero-sum trigger allows them) on an account and a lot that do not exist.
    await ctx.run(
      `INSERT INTO ledger_entries (transaction_id, org_id, account_id, amount, lot_id)
       VALUES ($1::uuid, $2::uuid, gen_random_uuid(), 5, NULL), ($1::uuid, $2::uuid, gen_random_uuid(), -5, gen_random_uuid())`,
      [grant.id, org.id],
    );
    const problems = await checkLedger(ctx, org.id);
    expect(problems.filter((p) => p.includes('names an unknown'))).toEqual([
      expect.stringMatching(/^entry \d+ names an unknown account$/),
      expect.stringMatching(/^entry \d+ names an unknown account and lot$/),
    ]);
  });
});
