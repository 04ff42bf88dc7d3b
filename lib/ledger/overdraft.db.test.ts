/**
 * Overdraft: with an org overdraft limit, a commit above its hold may take an account below zero, as far as
 * the limit and no further; the shortfall is debt, repaid first from the next credits that arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCredits } from '../money/credits.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { allocateCredits, grantCredits } from './credits.ts';
import { commitReservation, recordUsage, releaseReservation, reserveCredits } from './metering.ts';
import { updateOrgPolicy } from './policies.ts';
import { checkLedger, getBalance, listTransactions } from './queries.ts';
import { CREDIT, errorCode, ledgerFixture, system, type LedgerFixture } from './testing/fixtures.ts';

let database: TestDatabase;
let f: LedgerFixture;

beforeAll(async () => {
  database = await useTestDatabase();
  f = ledgerFixture(database);
});

afterAll(async () => {
  await f.close();
  await database.db.$disconnect();
});

/** An org with an overdraft limit of `limit` credits and a member holding `credits` credits. */
async function overdraftOrg(name: string, limit: bigint, credits: bigint) {
  const orgId = await f.newOrg();
  await updateOrgPolicy(f.ctx, orgId, { overdraft_limit: limit * CREDIT }, system);
  const user = await f.newMember(orgId, name);
  const lot = credits > 0n ? await grantCredits(f.ctx, orgId, { user, amount: credits * CREDIT, reason: 'Credits' }, system) : null;
  return { orgId, user, lot };
}

describe('a commit above its hold', () => {
  it('may go below zero within the overdraft limit, and the shortfall becomes debt', async () => {
    const { orgId, user, lot } = await overdraftOrg('within-limit', 5n, 10n);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 8n * CREDIT }, system);

    const commit = await commitReservation(f.ctx, orgId, hold.id, { amount: 13n * CREDIT }, system);
    expect(commit).toMatchObject({ charged: '13', released: '0', balance: { available: '-3', reserved: '0', debt: '3' } });
    const [charge] = (await listTransactions(f.ctx, orgId, { user, kind: 'charge' })).data;
    // The lot pays the held part and the rest of it; overdraft covers what no lot does.
    const paid = new Map<string, bigint>();
    for (const r of charge.receipt ?? []) paid.set(r.lot_id ?? r.source!, (paid.get(r.lot_id ?? r.source!) ?? 0n) + parseCredits(r.amount));
    expect(paid).toEqual(new Map([[lot!.lot_id, 10n * CREDIT], ['overdraft', 3n * CREDIT]]));
    // Below zero, nothing more can be held.
    expect(await errorCode(reserveCredits(f.ctx, orgId, { user, amount: CREDIT }, system))).toBe('insufficient_credits');
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('is refused beyond available plus the overdraft limit, and the hold stays as it was', async () => {
    const { orgId, user } = await overdraftOrg('beyond-limit', 5n, 10n);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 8n * CREDIT }, system);

    // 2 available after the hold, so at most 8 + 2 + 5 = 15 may be charged.
    expect(await errorCode(commitReservation(f.ctx, orgId, hold.id, { amount: 16n * CREDIT }, system))).toBe('commit_exceeds_available');
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '2', reserved: '8', debt: '0' });
    expect(await commitReservation(f.ctx, orgId, hold.id, { amount: 15n * CREDIT }, system)).toMatchObject({
      charged: '15',
      balance: { available: '-5', debt: '5' },
    });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('is refused without an overdraft limit as soon as it exceeds what is available', async () => {
    const { orgId, user } = await overdraftOrg('no-overdraft', 0n, 10n);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 8n * CREDIT }, system);
    expect(await errorCode(commitReservation(f.ctx, orgId, hold.id, { amount: 11n * CREDIT }, system))).toBe('commit_exceeds_available');
    expect(await commitReservation(f.ctx, orgId, hold.id, { amount: 10n * CREDIT }, system)).toMatchObject({
      charged: '10',
      balance: { available: '0', debt: '0' },
    });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});

describe('debt', () => {
  it('is repaid first from the next grant, in a debt settlement', async () => {
    const { orgId, user } = await overdraftOrg('repaid-by-grant', 5n, 10n);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 10n * CREDIT }, system);
    await commitReservation(f.ctx, orgId, hold.id, { amount: 13n * CREDIT }, system);

    f.advance(1);
    const topUp = await grantCredits(f.ctx, orgId, { user, amount: 10n * CREDIT, reason: 'Top-up' }, system);
    expect(topUp.balance).toEqual({ available: '7', reserved: '0', total: '7', debt: '0' });
    const settlements = (await listTransactions(f.ctx, orgId, { user, kind: 'debt_settlement' })).data;
    expect(settlements).toHaveLength(1);
    expect(settlements[0].entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ account: 'user', amount: '-3', lot: expect.objectContaining({ id: topUp.lot_id }) }),
        expect.objectContaining({ account: 'user', amount: '3', lot: null }),
      ]),
    );
    expect(settlements[0].amount).toBe('0');
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('is repaid from an allocation, and partly when the credits do not cover it', async () => {
    const { orgId, user } = await overdraftOrg('repaid-by-allocation', 5n, 0n);
    await grantCredits(f.ctx, orgId, { amount: 100n * CREDIT, reason: 'Pool' }, system);
    await allocateCredits(f.ctx, orgId, { user, amount: 2n * CREDIT }, system);
    await recordUsage(f.ctx, orgId, { id: 'big-call', user, amount: 6n * CREDIT }, system);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '-4', debt: '4' });

    await allocateCredits(f.ctx, orgId, { user, amount: CREDIT }, system);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '-3', debt: '3' });
    await allocateCredits(f.ctx, orgId, { user, amount: 5n * CREDIT }, system);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '2', debt: '0' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('is repaid when a commit below its hold or a release gives credits back', async () => {
    const { orgId, user } = await overdraftOrg('repaid-by-release', 5n, 10n);
    const big = await reserveCredits(f.ctx, orgId, { user, amount: 4n * CREDIT }, system);
    const other = await reserveCredits(f.ctx, orgId, { user, amount: 6n * CREDIT }, system);
    await commitReservation(f.ctx, orgId, big.id, { amount: 8n * CREDIT }, system);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '-4', reserved: '6', debt: '4' });

    await releaseReservation(f.ctx, orgId, other.id, system);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '2', reserved: '0', debt: '0' });
    expect((await listTransactions(f.ctx, orgId, { user, kind: 'debt_settlement' })).data).toHaveLength(1);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});
