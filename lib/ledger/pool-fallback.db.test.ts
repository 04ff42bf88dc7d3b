/**
 * Pool fallback: with org_policies.pool_fallback, a member whose own credits do not cover a request draws it
 * from the org pool, within the daily limit (per UTC day, counting charges and active pool holds); without
 * it the request is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { grantCredits } from './credits.ts';
import { commitReservation, recordUsage, releaseReservation, reserveCredits } from './metering.ts';
import { updateOrgPolicy } from './policies.ts';
import { checkLedger, getBalance } from './queries.ts';
import { CREDIT, errorCode, ledgerFixture, system, type LedgerFixture } from './testing/fixtures.ts';

let database: TestDatabase;
let f: LedgerFixture;

beforeAll(async () => {
  database = await useTestDatabase();
  // Two minutes before midnight UTC, so a test can step into the next day.
  f = ledgerFixture(database, new Date('2026-03-10T23:58:00.000Z'));
});

afterAll(async () => {
  await f.close();
  await database.db.$disconnect();
});

async function fallbackOrg(name: string, policy: { pool_fallback: boolean; pool_daily_limit?: bigint | null }) {
  const orgId = await f.newOrg();
  await updateOrgPolicy(f.ctx, orgId, policy, system);
  const user = await f.newMember(orgId, name);
  await grantCredits(f.ctx, orgId, { amount: 100n * CREDIT, reason: 'Pool' }, system);
  await grantCredits(f.ctx, orgId, { user, amount: 2n * CREDIT, reason: 'Own credits' }, system);
  return { orgId, user };
}

const reserve = (orgId: string, user: string, credits: bigint) =>
  reserveCredits(f.ctx, orgId, { user, amount: credits * CREDIT, ttl_seconds: 3600 }, system);

describe('pool fallback', () => {
  it('uses the member’s own credits first, then the pool, up to the daily limit', async () => {
    const { orgId, user } = await fallbackOrg('daily-limit', { pool_fallback: true, pool_daily_limit: 5n * CREDIT });

    expect(await reserve(orgId, user, 2n)).toMatchObject({ funded_by: 'user' });
    const first = await reserve(orgId, user, 3n);
    expect(first).toMatchObject({ funded_by: 'pool', balance: { available: '0', reserved: '2' } });
    // 3 held from the pool today; 3 more would make 6 > 5.
    expect(await errorCode(reserve(orgId, user, 3n))).toBe('insufficient_credits');
    const second = await reserve(orgId, user, 2n);
    expect(second).toMatchObject({ funded_by: 'pool' });
    expect(await errorCode(reserve(orgId, user, 1n))).toBe('insufficient_credits');

    // Committed draws count like holds; a released pool hold frees its part of the limit.
    await commitReservation(f.ctx, orgId, first.id, { amount: 3n * CREDIT }, system);
    expect(await errorCode(reserve(orgId, user, 1n))).toBe('insufficient_credits');
    await releaseReservation(f.ctx, orgId, second.id, system);
    expect(await reserve(orgId, user, 1n)).toMatchObject({ funded_by: 'pool' });
    expect(await errorCode(reserve(orgId, user, 2n))).toBe('insufficient_credits');

    expect(await getBalance(f.ctx, orgId)).toMatchObject({ available: '96', reserved: '1', total: '97' });
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '0', reserved: '2', total: '2' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('starts a new daily limit at midnight UTC, for holds and for usage events', async () => {
    const { orgId, user } = await fallbackOrg('next-day', { pool_fallback: true, pool_daily_limit: 5n * CREDIT });
    await recordUsage(f.ctx, orgId, { id: 'own', user, amount: 2n * CREDIT }, system);
    expect(await recordUsage(f.ctx, orgId, { id: 'late-1', user, amount: 4n * CREDIT }, system)).toMatchObject({ status: 'charged' });
    expect(await errorCode(recordUsage(f.ctx, orgId, { id: 'late-2', user, amount: 2n * CREDIT }, system))).toBe('insufficient_credits');
    expect(await errorCode(reserve(orgId, user, 2n))).toBe('insufficient_credits');

    f.advance(3 * 60);
    expect(f.now().toISOString().slice(0, 10)).toBe('2026-03-11');
    expect(await reserve(orgId, user, 5n)).toMatchObject({ funded_by: 'pool' });
    expect(await errorCode(recordUsage(f.ctx, orgId, { id: 'early-1', user, amount: CREDIT }, system))).toBe('insufficient_credits');

    expect(await getBalance(f.ctx, orgId)).toMatchObject({ available: '91', reserved: '5', total: '96' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('draws on the pool without a limit only as far as the pool has credits', async () => {
    const { orgId, user } = await fallbackOrg('no-limit', { pool_fallback: true, pool_daily_limit: null });
    expect(await reserve(orgId, user, 60n)).toMatchObject({ funded_by: 'pool' });
    expect(await errorCode(reserve(orgId, user, 41n))).toBe('insufficient_credits');
    expect(await reserve(orgId, user, 40n)).toMatchObject({ funded_by: 'pool' });
    expect(await getBalance(f.ctx, orgId)).toMatchObject({ available: '0', reserved: '100' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('answers the commit and the release of a pool-funded hold with the member’s balance, as the hold did', async () => {
    const { orgId, user } = await fallbackOrg('member-view', { pool_fallback: true, pool_daily_limit: null });
    const committed = await reserve(orgId, user, 5n);
    const released = await reserve(orgId, user, 4n);
    expect(committed).toMatchObject({ funded_by: 'pool', balance: { available: '2', reserved: '0', total: '2' } });

    const commit = await commitReservation(f.ctx, orgId, committed.id, { amount: 3n * CREDIT }, system);
    expect(commit).toMatchObject({ charged: '3', balance: { available: '2', reserved: '0', total: '2', debt: '0' } });
    const release = await releaseReservation(f.ctx, orgId, released.id, system);
    expect(release).toMatchObject({ released: '4', balance: { available: '2', reserved: '0', total: '2', debt: '0' } });
    expect(await getBalance(f.ctx, orgId)).toMatchObject({ available: '97', reserved: '0' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });

  it('is not used when the policy does not allow it', async () => {
    const { orgId, user } = await fallbackOrg('no-fallback', { pool_fallback: false });
    expect(await errorCode(reserve(orgId, user, 3n))).toBe('insufficient_credits');
    expect(await errorCode(recordUsage(f.ctx, orgId, { id: 'too-big', user, amount: 3n * CREDIT }, system))).toBe('insufficient_credits');
    expect(await getBalance(f.ctx, orgId)).toMatchObject({ available: '100', reserved: '0' });
    expect(await getBalance(f.ctx, orgId, user)).toMatchObject({ available: '2', reserved: '0' });
    expect(await checkLedger(f.ctx, orgId)).toEqual([]);
  });
});
