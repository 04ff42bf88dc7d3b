import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, type PgPool } from '../db/pg.ts';
import { pgRunner } from '../ledger/apply.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { grantCredits } from '../ledger/credits.ts';
import { checkLedger, getBalance } from '../ledger/queries.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import type { UnmeteredEntry } from './degradation.ts';
import { describeReport, reconcileUnmetered } from './reconcile.ts';

let database: TestDatabase;
let pool: PgPool;
let ctx: LedgerContext;
let org: TestOrg;

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 4);
  ctx = { db: database.db, run: pgRunner(pool) };
  org = await createTestOrg(database.db, 'reconcile');
  await createTestMember(database.db, org.id, 'ada');
  await grantCredits(ctx, org.id, { user: 'ada', amount: 1_000_000n, reason: 'Seed' }, { type: 'system' });
});
afterAll(async () => {
  expect(await checkLedger(ctx, org.id)).toEqual([]);
  await pool.end();
  await database.db.$disconnect();
});

const line = (requestId: string, user: string, price: string | null): string =>
  JSON.stringify({
    at: new Date().toISOString(),
    requestId,
    orgId: org.id,
    apiKeyId: '00000000-0000-4000-8000-000000000000',
    user,
    endpoint: 'chat.completions',
    usage: { model: 'gpt-test', input_tokens: 2, output_tokens: 5 },
    price,
    reason: 'credit database unreachable',
  } satisfies UnmeteredEntry);

describe('reconcileUnmetered', () => {
  it('charges each priced journal line once as a usage event and reports the rest', async () => {
    const journal = [line('r1', 'ada', '170'), line('r2', 'ada', '30'), line('r3', 'ada', null), '{not json', line('r4', 'nobody', '5')].join('\n');
    const first = await reconcileUnmetered(ctx, journal);
    expect(first).toMatchObject({ charged: 2, duplicates: 0, unpriced: ['r3'], unreadable: 1 });
    expect(first.rejected).toEqual([{ requestId: 'r4', reason: expect.stringMatching(/^not_found/) }]);
    expect((await getBalance(ctx, org.id, 'ada')).available).toBe('0.9998');
    const again = await reconcileUnmetered(ctx, journal);
    expect(again).toMatchObject({ charged: 0, duplicates: 2 });
    expect((await getBalance(ctx, org.id, 'ada')).available).toBe('0.9998');
    expect(describeReport(again)).toContain('already charged 2');
  });
});
