/**
 * Spend order: credits are drawn from the lot with the highest priority first, then the one expiring first
 * (lots without expiry last), then the oldest; allocations keep the terms of the lots they came from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { allocateCredits, grantCredits } from './credits.ts';
import { commitReservation, recordUsage, reserveCredits } from './metering.ts';
import { checkLedger, listLots, listTransactions } from './queries.ts';
import { CREDIT, ledgerFixture, system, type LedgerFixture } from './testing/fixtures.ts';

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

/** Lot id -> credits paid, from the receipt of the charge transaction `transactionId`. */
async function paidBy(orgId: string, user: string, transactionId: string | null): Promise<Record<string, string>> {
  const { data } = await listTransactions(f.ctx, orgId, { user, kind: 'charge', limit: 200 });
  const charge = data.find((t) => t.id === transactionId);
  return Object.fromEntries((charge?.receipt ?? []).map((r) => [r.lot_id ?? 'overdraft', r.amount]));
}

describe('spend order', () => {
  it('is priority first, then earliest expiry (no expiry last), then oldest', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'spender');
    const grant = async (credits: bigint, reason: string, extra: { priority?: number; expires_at?: string } = {}) => {
      f.advance(1);
      return (await grantCredits(f.ctx, orgId, { user, amount: credits * CREDIT, reason, ...extra }, system)).lot_id;
    };
    const oldest = await grant(1n, 'oldest, no expiry');
    const later = await grant(2n, 'expires in two days', { expires_at: f.at(2 * 86_400) });
    const sooner = await grant(3n, 'expires tomorrow', { expires_at: f.at(86_400) });
    const preferred = await grant(4n, 'high priority, no expiry', { priority: 5 });
    const newest = await grant(5n, 'newest, no expiry');
    const lowest = await grant(6n, 'low priority, expires soonest', { priority: -1, expires_at: f.at(3_600) });

    // Each event costs exactly what the next lot holds, so each receipt names one lot.
    const expected = [
      [preferred, 4n],
      [sooner, 3n],
      [later, 2n],
      [oldest, 1n],
      [newest, 5n],
      [lowest, 6n],
    ] as const;
    for (const [i, [lot, credits]] of expected.entries()) {
      const usage = await recordUsage(f.ctx, orgId, { id: `draw-${i}`, user, amount: credits * CREDIT }, system);
      if (usage.status === 'rejected') throw new Error(`event ${i} was rejected: ${usage.error.code}`);
      expect(await paidBy(orgId, user, usage.transaction_id)).toEqual({ [lot]: credits.toString() });
    }
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('sets a hold aside across lots in spend order, and a commit below it pays from the first of them', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'hold-order');
    f.advance(1);
    const plain = (await grantCredits(f.ctx, orgId, { user, amount: 5n * CREDIT, reason: 'Plain' }, system)).lot_id;
    f.advance(1);
    const bonus = (await grantCredits(f.ctx, orgId, { user, amount: 2n * CREDIT, priority: 3, reason: 'Bonus' }, system)).lot_id;

    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 4n * CREDIT }, system);
    const stored = await database.db.reservation.findUniqueOrThrow({ where: { id: hold.id } });
    expect(stored.holdLots).toEqual([
      expect.objectContaining({ lot_id: bonus, amount: 2 * Number(CREDIT) }),
      expect.objectContaining({ lot_id: plain, amount: 2 * Number(CREDIT) }),
    ]);
    const commit = await commitReservation(f.ctx, orgId, hold.id, { amount: 3n * CREDIT }, system);
    expect(await paidBy(orgId, user, commit.transaction_id)).toEqual({ [bonus]: '2', [plain]: '1' });
    const lots = await listLots(f.ctx, orgId, { user, includeSpent: true });
    expect(Object.fromEntries(lots.map((l) => [l.id, l.remaining]))).toEqual({ [bonus]: '0', [plain]: '4' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('applies to the pool too: an allocation takes the pool lot expiring first and keeps its expiry and priority', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'allocated');
    f.advance(1);
    await grantCredits(f.ctx, orgId, { amount: 10n * CREDIT, reason: 'Purchase-like' }, system);
    f.advance(1);
    const promo = await grantCredits(f.ctx, orgId, { amount: 2n * CREDIT, priority: 1, expires_at: f.at(7 * 86_400), reason: 'Promotion' }, system);
    f.advance(1);
    const expiring = await grantCredits(f.ctx, orgId, { amount: 2n * CREDIT, priority: 1, expires_at: f.at(86_400), reason: 'Promotion' }, system);

    await allocateCredits(f.ctx, orgId, { user, amount: 3n * CREDIT }, system);
    const lots = await listLots(f.ctx, orgId, { user });
    expect(lots.map((l) => ({ remaining: l.remaining, priority: l.priority, expires_at: l.expires_at }))).toEqual([
      { remaining: '2', priority: 1, expires_at: expiring.expires_at },
      { remaining: '1', priority: 1, expires_at: promo.expires_at },
    ]);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});
