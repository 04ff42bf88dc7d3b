/**
 * Leases: a hold of a member's own credits taken once and charged in parts, each part a charge with its
 * receipt and usage record; never more than half of what the member has available beyond the minimum asked,
 * never captured twice, released in the end.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from './credits.ts';
import { captureLease, openLease } from './leases.ts';
import { releaseReservation, reserveCredits } from './metering.ts';
import { updateOrgPolicy } from './policies.ts';
import { runOps } from './context.ts';
import { checkLedger, getBalance, listTransactions } from './queries.ts';
import { CREDIT, errorCode, ledgerFixture, system, type LedgerFixture } from './testing/fixtures.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';

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

async function member(name: string, credits: bigint) {
  const orgId = await f.newOrg();
  const user = await f.newMember(orgId, name);
  await grantCredits(f.ctx, orgId, { user, amount: credits * CREDIT, reason: 'Credits' }, system);
  return { orgId, user };
}

const facts = (requestId: string) => ({ model: 'gpt-4o-mini', provider: 'openai', input_tokens: 10, output_tokens: 5, request_id: requestId, status: 'ok' as const });

describe('a lease', () => {
  it('holds the target when half of what is available covers it, else half, else the minimum', async () => {
    const { orgId, user } = await member('sizes', 100n);
    const big = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 10n * CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system);
    expect([big.amount, big.available]).toEqual([10n * CREDIT, 90n * CREDIT]);
    const half = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 80n * CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system);
    expect([half.amount, half.available]).toEqual([45n * CREDIT, 45n * CREDIT]);
    const least = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 80n * CREDIT, minAmount: 40n * CREDIT, ttlSeconds: 60 }, system);
    expect([least.amount, least.available]).toEqual([40n * CREDIT, 5n * CREDIT]);
    expect(await errorCode(openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 80n * CREDIT, minAmount: 6n * CREDIT, ttlSeconds: 60 }, system))).toBe(
      'insufficient_credits',
    );
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '5', reserved: '95' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('gives part of what it holds back, from the credits spent last, with its charges or alone', async () => {
    const orgId = await f.newOrg();
    const user = await f.newMember(orgId, 'gives-back');
    await grantCredits(f.ctx, orgId, { user, amount: 6n * CREDIT, reason: 'Promo', priority: 5 }, system);
    await grantCredits(f.ctx, orgId, { user, amount: 14n * CREDIT, reason: 'Bought' }, system);
    const lease = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 10n * CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system);
    expect(lease.amount).toBe(10n * CREDIT); // 6 from the promotion, 4 bought

    const first = await captureLease(f.ctx, orgId, lease.id, null, [{ id: randomUUID(), amount: 2n * CREDIT, facts: facts('g1') }], system, 5n * CREDIT);
    expect([first.amount, first.available]).toEqual([3n * CREDIT, 15n * CREDIT]);
    const alone = await captureLease(f.ctx, orgId, lease.id, null, [], system, CREDIT);
    expect([alone.amount, alone.available]).toEqual([2n * CREDIT, 16n * CREDIT]);
    // More than it holds: all of it.
    const all = await captureLease(f.ctx, orgId, lease.id, null, [], system, 10n * CREDIT);
    expect([all.amount, all.available]).toEqual([0n, 18n * CREDIT]);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '18', reserved: '0' });
    // The promotion paid the charge, the rest came back where it was taken: 2 promo credits were spent.
    const lots = await database.db.creditLot.findMany({ where: { orgId, account: { kind: 'user' } }, orderBy: { priority: 'desc' } });
    expect(lots.map((l) => l.remaining)).toEqual([4n * CREDIT, 14n * CREDIT]);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);

    await releaseReservation(f.ctx, orgId, lease.id, system);
    expect(await errorCode(captureLease(f.ctx, orgId, lease.id, null, [], system, CREDIT))).toBe('reservation_already_released');
  });

  it('is never funded by the pool', async () => {
    const orgId = await f.newOrg();
    await updateOrgPolicy(f.ctx, orgId, { pool_fallback: true }, system);
    await grantCredits(f.ctx, orgId, { amount: 100n * CREDIT, reason: 'Pool' }, system);
    const user = await f.newMember(orgId, 'pool-only');
    expect(await errorCode(openLease(f.ctx, orgId, user, { id: randomUUID(), amount: CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system))).toBe(
      'insufficient_credits',
    );
  });

  it('charges each captured request with its receipt and usage record, once, and releases the rest', async () => {
    const { orgId, user } = await member('captures', 100n);
    const lease = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 10n * CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system);
    const a = { id: randomUUID(), amount: 3n * CREDIT, facts: facts('req-a') };
    const b = { id: randomUUID(), amount: 2n * CREDIT, facts: facts('req-b'), metadata: { endpoint: 'chat.completions' } };
    const failed = { id: randomUUID(), amount: 0n, facts: { ...facts('req-failed'), status: 'error' as const } };

    const first = await captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [a, b, failed], system);
    expect(first.amount).toBe(5n * CREDIT);
    expect(first.charges.map((c) => (c.ok ? [c.status, c.charged, c.transactionId !== null] : c.error.code))).toEqual([
      ['captured', 3n * CREDIT, true],
      ['captured', 2n * CREDIT, true],
      ['captured', 0n, false],
    ]);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '90', reserved: '5', total: '95' });

    // A repeat (a retry whose answer was lost, a journal replay) charges nothing again.
    const again = await captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [a, b], system);
    expect(again.charges.map((c) => c.ok && c.status)).toEqual(['duplicate', 'duplicate']);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '90', reserved: '5' });

    const records = await database.db.usageRecord.findMany({ where: { orgId }, orderBy: { requestId: 'asc' } });
    expect(records.map((r) => [r.id, r.requestId, r.cost, r.status, r.reservationId])).toEqual([
      [a.id, 'req-a', 3n * CREDIT, 'ok', null],
      [b.id, 'req-b', 2n * CREDIT, 'ok', null],
      [failed.id, 'req-failed', 0n, 'error', null],
    ]);
    const charges = (await listTransactions(f.ctx, orgId, { user, kind: 'charge' })).data;
    expect(charges.map((t) => t.receipt?.map((r) => r.amount))).toEqual(expect.arrayContaining([['3'], ['2']]));

    await releaseReservation(f.ctx, orgId, lease.id, system);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '95', reserved: '0', total: '95' });
    // Released, it captures nothing more; what it captured stays.
    expect(await errorCode(captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [{ id: randomUUID(), amount: CREDIT, facts: facts('late') }], system))).toBe(
      'reservation_already_released',
    );
    expect((await captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [a], system)).charges[0]).toMatchObject({ ok: true, status: 'duplicate' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('captured together with other leases in one batch, charges each request as alone', async () => {
    const orgId = await f.newOrg();
    const users = ['batch-a', 'batch-b'];
    const leases = [];
    for (const user of users) {
      await f.newMember(orgId, user);
      // Two lots, so a charge's receipt may span both.
      await grantCredits(f.ctx, orgId, { user, amount: 2n * CREDIT, reason: 'First', priority: 1 }, system);
      await grantCredits(f.ctx, orgId, { user, amount: 8n * CREDIT, reason: 'Second' }, system);
      leases.push(await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 4n * CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system));
    }
    const charge = (amount: bigint, request: string) => ({ id: randomUUID(), amount: amount.toString(), usage: facts(request) });
    const ops = leases.map((lease, i) => ({
      type: 'capture' as const,
      reservation_id: lease.id,
      account_id: lease.member.accountId,
      charges: [charge((3n * CREDIT) / 2n, `${users[i]}-1`), charge(0n, `${users[i]}-2`), charge(CREDIT, `${users[i]}-3`)],
    }));
    const results = await runOps(f.ctx, orgId, ops);
    expect(results.map((r) => r.ok && r.amount)).toEqual([(3n * CREDIT / 2n).toString(), (3n * CREDIT / 2n).toString()]);
    for (const user of users) {
      expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '6', reserved: '1.5', total: '7.5' });
      const charges = (await listTransactions(f.ctx, orgId, { user, kind: 'charge' })).data;
      // 1.5 from the first lot; then 0.5 from the first lot and 0.5 from the second.
      expect(charges.map((t) => (t.receipt ?? []).map((r) => r.amount).sort()).sort()).toEqual([['0.5', '0.5'], ['1.5']]);
    }
    expect(await database.db.usageRecord.count({ where: { orgId } })).toBe(6);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('charges beyond what it holds from available credits only, refusing that request alone', async () => {
    const orgId = await f.newOrg();
    await updateOrgPolicy(f.ctx, orgId, { overdraft_limit: 0n }, system);
    const user = await f.newMember(orgId, 'beyond');
    await grantCredits(f.ctx, orgId, { user, amount: 10n * CREDIT, reason: 'Credits' }, system);
    const lease = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 4n * CREDIT, minAmount: CREDIT, ttlSeconds: 60 }, system);
    const over = { id: randomUUID(), amount: 7n * CREDIT, facts: facts('over') };
    const tooMuch = { id: randomUUID(), amount: 4n * CREDIT, facts: facts('too-much') };
    const fits = { id: randomUUID(), amount: CREDIT, facts: facts('fits') };
    const capture = await captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [over, tooMuch, fits], system);
    // 4 held + 3 of the 6 available; then nothing is held and 3 are available: 4 is refused, 1 fits.
    expect(capture.charges.map((c) => (c.ok ? c.charged : c.error.code))).toEqual([7n * CREDIT, 'commit_exceeds_available', CREDIT]);
    expect(capture.amount).toBe(0n);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '2', reserved: '0', total: '2' });
    expect(await database.db.usageRecord.count({ where: { orgId } })).toBe(2);
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('that expires leaves no usage record of its own, and an ordinary hold is not captured in parts', async () => {
    const { orgId, user } = await member('expiry', 10n);
    const lease = await openLease(f.ctx, orgId, user, { id: randomUUID(), amount: 2n * CREDIT, minAmount: CREDIT, ttlSeconds: 1 }, system);
    await captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [{ id: randomUUID(), amount: CREDIT, facts: facts('in-time') }], system);
    f.advance(2);
    expect(await errorCode(captureLease(f.ctx, orgId, lease.id, lease.member.accountId, [{ id: randomUUID(), amount: CREDIT, facts: facts('late') }], system))).toBe(
      'reservation_expired',
    );
    expect((await database.db.usageRecord.findMany({ where: { orgId } })).map((r) => r.requestId)).toEqual(['in-time']);
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '9', reserved: '0' });

    const hold = await reserveCredits(f.ctx, orgId, { user, amount: CREDIT }, system);
    expect(await errorCode(captureLease(f.ctx, orgId, hold.id, lease.member.accountId, [{ id: randomUUID(), amount: CREDIT, facts: facts('x') }], system))).toBe(
      'conflict',
    );
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});
