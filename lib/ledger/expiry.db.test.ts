/**
 * Expiry of lots and holds on the ledger clock: what was set aside before a lot expired still pays, an
 * expired lot never pays for anything new, and what expires unspent goes to breakage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { allocateCredits, grantCredits } from './credits.ts';
import { commitReservation, releaseReservation, reserveCredits } from './metering.ts';
import { checkLedger, getBalance, listLots, listTransactions } from './queries.ts';
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

async function breakage(orgId: string): Promise<bigint> {
  const account = await database.db.ledgerAccount.findFirstOrThrow({ where: { orgId, key: 'system:breakage' }, select: { id: true } });
  const sum = await database.db.ledgerEntry.aggregate({
    where: { orgId, accountId: account.id },
    _sum: { amount: true },
  });
  return sum._sum.amount ?? 0n;
}

describe('a lot expiring between reserve and commit', () => {
  it('still pays the held part, and the part the commit gives back expires to breakage', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'held-across-expiry');
    const trial = await grantCredits(f.ctx, orgId, { user, amount: 10n * CREDIT, expires_at: f.at(60), reason: 'Trial' }, system);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 6n * CREDIT, ttl_seconds: 600 }, system);

    f.advance(120);
    // The 4 credits not held expired; the 6 held are still set aside for the call in flight.
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '0', reserved: '6', total: '6' });
    expect(await breakage(orgId)).toBe(4n * CREDIT);

    const commit = await commitReservation(f.ctx, orgId, hold.id, { amount: 4n * CREDIT }, system);
    expect(commit).toMatchObject({ status: 'committed', charged: '4', released: '2' });
    const [charge] = (await listTransactions(f.ctx, orgId, { user, kind: 'charge' })).data;
    expect(charge.receipt).toEqual([{ lot_id: trial.lot_id, source: 'promotion', amount: '4', expires_at: trial.expires_at }]);

    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '0', reserved: '0', total: '0', debt: '0' });
    expect(await breakage(orgId)).toBe(6n * CREDIT);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('gives a released hold back to an expired lot only to expire it', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'released-after-expiry');
    await grantCredits(f.ctx, orgId, { user, amount: 5n * CREDIT, expires_at: f.at(60), reason: 'Trial' }, system);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 5n * CREDIT, ttl_seconds: 600 }, system);
    f.advance(90);

    expect(await releaseReservation(f.ctx, orgId, hold.id, system)).toMatchObject({ released: '5' });
    expect(await errorCode(reserveCredits(f.ctx, orgId, { user, amount: CREDIT }, system))).toBe('insufficient_credits');
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '0', reserved: '0', total: '0' });
    expect(await breakage(orgId)).toBe(5n * CREDIT);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});

describe('an expired lot', () => {
  it('is never drawn by a new reservation, from the moment it expires', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'never-drawn');
    // The trial lot comes first in spend order (higher priority) while it lasts.
    const trial = await grantCredits(f.ctx, orgId, { user, amount: 5n * CREDIT, priority: 10, expires_at: f.at(60), reason: 'Trial' }, system);
    const paid = await grantCredits(f.ctx, orgId, { user, amount: 3n * CREDIT, reason: 'Credits' }, system);

    f.advance(60);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 3n * CREDIT }, system);
    expect(await errorCode(reserveCredits(f.ctx, orgId, { user, amount: CREDIT }, system))).toBe('insufficient_credits');
    await commitReservation(f.ctx, orgId, hold.id, { amount: 3n * CREDIT }, system);

    const [charge] = (await listTransactions(f.ctx, orgId, { user, kind: 'charge' })).data;
    expect(charge.receipt).toEqual([{ lot_id: paid.lot_id, source: 'promotion', amount: '3', expires_at: null }]);
    const lots = await listLots(f.ctx, orgId, { user, includeSpent: true });
    expect(lots.find((l) => l.id === trial.lot_id)).toMatchObject({ remaining: '0', expired: true });
    expect(await breakage(orgId)).toBe(5n * CREDIT);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('moves what is left of it, in the pool and in allocations made from it, to breakage', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'allocated-expiry');
    const pool = await grantCredits(f.ctx, orgId, { amount: 7n * CREDIT, expires_at: f.at(3600), reason: 'Promotion' }, system);
    await allocateCredits(f.ctx, orgId, { user, amount: 2n * CREDIT }, system);
    const [allocated] = await listLots(f.ctx, orgId, { user });
    expect(allocated).toMatchObject({ remaining: '2', expires_at: pool.expires_at });

    f.advance(3600);
    expect(await getBalance(f.ctx, orgId)).toMatchObject({ available: '0', total: '0' });
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '0', total: '0' });
    const expiries = (await listTransactions(f.ctx, orgId, { kind: 'expiry' })).data;
    expect(expiries.map((t) => t.entries.find((e) => e.account === 'system:breakage')?.amount).sort()).toEqual(['2', '5']);
    expect(await breakage(orgId)).toBe(7n * CREDIT);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});

describe('an expired hold', () => {
  it('gives its credits back and can no longer be committed or released', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'hold-expiry');
    await grantCredits(f.ctx, orgId, { user, amount: 5n * CREDIT, reason: 'Credits' }, system);
    const hold = await reserveCredits(f.ctx, orgId, { user, amount: 3n * CREDIT, ttl_seconds: 30 }, system);

    f.advance(30);
    expect(await errorCode(commitReservation(f.ctx, orgId, hold.id, { amount: CREDIT }, system))).toBe('reservation_expired');
    expect(await errorCode(releaseReservation(f.ctx, orgId, hold.id, system))).toBe('reservation_expired');
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '5', reserved: '0', total: '5' });
    expect(await database.db.reservation.findUniqueOrThrow({ where: { id: hold.id } })).toMatchObject({ status: 'expired', charged: null });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('from two lots gives each lot back its part when holds expire together', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'two-lot-hold');
    await grantCredits(f.ctx, orgId, { user, amount: 2n * CREDIT, reason: 'First' }, system);
    f.advance(1);
    await grantCredits(f.ctx, orgId, { user, amount: 3n * CREDIT, reason: 'Second' }, system);
    await reserveCredits(f.ctx, orgId, { user, amount: 3n * CREDIT, ttl_seconds: 60 }, system);
    await reserveCredits(f.ctx, orgId, { user, amount: CREDIT, ttl_seconds: 60 }, system);
    await reserveCredits(f.ctx, orgId, { user, amount: CREDIT, ttl_seconds: 60 }, system);

    f.advance(60);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '5', reserved: '0', total: '5' });
    expect((await listLots(f.ctx, orgId, { user })).map((l) => l.remaining)).toEqual(['2', '3']);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});
