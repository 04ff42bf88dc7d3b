/**
 * The ledger under concurrent load against a real PostgreSQL: reservations racing from two OS processes, hot
 * accounts through the coalescer, duplicate usage events, one idempotency key sent many times at once,
 * allocations racing pool-fallback holds, and a commit racing a release. Each ends with ledger_check empty.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../auth/actor.ts';
import { createPgPool } from '../db/pg.ts';
import { AppError } from '../http/errors.ts';
import { parseCredits } from '../money/credits.ts';
import { createOrg } from '../orgs/orgs.ts';
import { spawnBurst } from '../test/child-burst.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { pgRunner } from './apply.ts';
import { LedgerCoalescer } from './coalescer.ts';
import type { LedgerContext } from './context.ts';
import { allocateCredits, grantCredits } from './credits.ts';
import { commitReservation, recordUsage, recordUsageBatch, releaseReservation, reserveCredits } from './metering.ts';
import { updateOrgPolicy } from './policies.ts';
import { checkLedger, getBalance } from './queries.ts';

const CREDIT = 1_000_000n;
const system: Actor = { type: 'system' };
const here = path.dirname(fileURLToPath(import.meta.url));

let database: TestDatabase;
let pool: pg.Pool;
/** The production path: operations of one account batched by the coalescer. */
let coalesced: LedgerContext;
/** Every operation its own statement on its own connection: races inside the database. */
let direct: LedgerContext;

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 20);
  const run = pgRunner(pool);
  coalesced = { db: database.db, run, coalescer: new LedgerCoalescer(run) };
  direct = { db: database.db, run };
});

afterAll(async () => {
  await pool.end();
  await database.db.$disconnect();
});

let orgs = 0;
async function newOrg(): Promise<string> {
  orgs += 1;
  return (await createOrg(database.db, { slug: `race-${orgs}`, name: `Race ${orgs}` }, system)).id;
}

async function newMember(orgId: string, externalId: string): Promise<string> {
  const { user } = await createUser(database.db, { externalId, org: { id: orgId, role: 'member' } }, system);
  return user.id;
}

async function grant(orgId: string, user: string | undefined, credits: bigint): Promise<void> {
  await grantCredits(coalesced, orgId, { user, amount: credits * CREDIT, reason: 'Test credits' }, system);
}

/** Runs `fn`, and turns an AppError into its code (anything else still fails the test). */
async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string; status: number }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof AppError) return { ok: false, code: err.code, status: err.status };
    throw err;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A child process that reserves `count` times at once when told to (see testing/reserve-burst.ts). */
const reserveBurst = (args: string[]) =>
  spawnBurst<{ ok: number; codes: Record<string, number>; ids: string[] }>(path.join(here, 'testing/reserve-burst.ts'), args);

describe('reservations racing for the last credits', () => {
  it('lets exactly 100 of 200 one-credit holds from two processes through against 100 credits', async () => {
    const orgId = await newOrg();
    const user = await newMember(orgId, 'two-processes');
    await grant(orgId, user, 100n);

    const bursts = [0, 1].map(() => reserveBurst([database.url, orgId, user, '100', CREDIT.toString()]));
    await Promise.all(bursts.map((b) => b.ready));
    bursts.forEach((b) => b.go());
    const results = await Promise.all(bursts.map((b) => b.done));

    expect(results.reduce((s, r) => s + r.ok, 0)).toBe(100);
    const codes = results.flatMap((r) => Object.entries(r.codes));
    expect(codes.every(([code]) => code === 'insufficient_credits')).toBe(true);
    expect(codes.reduce((s, [, n]) => s + n, 0)).toBe(100);
    expect(new Set(results.flatMap((r) => r.ids)).size).toBe(100);
    expect(await database.db.reservation.count({ where: { orgId, status: 'active' } })).toBe(100);
    expect(await checkLedger(coalesced, orgId)).toEqual([]);
    expect(await getBalance(coalesced, orgId, user)).toMatchObject({ available: '0', reserved: '100', total: '100', debt: '0' });
  }, 120_000);
});

describe('a hot member through the coalescer', () => {
  it('charges exactly what 200 concurrent reserve-commit pairs committed', async () => {
    const orgId = await newOrg();
    const user = await newMember(orgId, 'hot');
    await grant(orgId, user, 1000n);
    // Holds of 1 to 5 credits, committed for less, the same, more (by 1) and nothing.
    const holdOf = (i: number) => BigInt(1 + (i % 5)) * CREDIT;
    const costOf = (i: number) => [holdOf(i) - CREDIT / 2n, holdOf(i), holdOf(i) + CREDIT, 0n][i % 4];

    const charged = await Promise.all(
      range(200).map(async (i) => {
        const r = await reserveCredits(coalesced, orgId, { user, amount: holdOf(i) }, system);
        const c = await commitReservation(coalesced, orgId, r.id, { amount: costOf(i) }, system);
        expect(c).toMatchObject({ id: r.id, status: 'committed' });
        return parseCredits(c.charged);
      }),
    );
    const total = charged.reduce((s, c) => s + c, 0n);
    // Every cost fits (at most 6 credits a pair against 1000), so each commit charged exactly what it asked.
    expect(total).toBe(range(200).reduce((s, i) => s + costOf(i), 0n));

    expect(await checkLedger(coalesced, orgId)).toEqual([]);
    const balance = await getBalance(coalesced, orgId, user);
    expect(parseCredits(balance.total)).toBe(1000n * CREDIT - total);
    expect(balance).toMatchObject({ reserved: '0', debt: '0' });
    expect(await database.db.ledgerTransaction.count({ where: { orgId, kind: 'charge' } })).toBe(150);
  });
});

describe('duplicate usage events', () => {
  it('charges 50 concurrent copies of one event once', async () => {
    const orgId = await newOrg();
    const user = await newMember(orgId, 'events');
    await grant(orgId, user, 10n);

    const results = await Promise.all(range(50).map(() => recordUsage(coalesced, orgId, { id: 'evt-1', user, amount: 2n * CREDIT }, system)));

    expect(results.filter((r) => r.status === 'charged')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(49);
    expect(results.every((r) => r.status !== 'rejected' && r.charged === '2')).toBe(true);
    expect(await database.db.usageEvent.count({ where: { orgId } })).toBe(1);
    expect(await checkLedger(coalesced, orgId)).toEqual([]);
    expect(await getBalance(coalesced, orgId, user)).toMatchObject({ available: '8', reserved: '0' });
  });

  it('charges each event of a 100-event batch sent twice at once exactly once', async () => {
    const orgId = await newOrg();
    const users = [await newMember(orgId, 'batch-a'), await newMember(orgId, 'batch-b')];
    await grant(orgId, users[0], 500n);
    await grant(orgId, users[1], 500n);
    const events = range(100).map((i) => ({ id: `batch-${i}`, user: users[i % 2], amount: BigInt(1 + (i % 3)) * CREDIT }));

    const [first, second] = await Promise.all([
      recordUsageBatch(coalesced, orgId, events, system),
      recordUsageBatch(coalesced, orgId, events, system),
    ]);

    for (const i of range(100)) {
      expect([first[i].status, second[i].status].sort()).toEqual(['charged', 'duplicate']);
    }
    expect(await database.db.usageEvent.count({ where: { orgId } })).toBe(100);
    expect(await database.db.ledgerTransaction.count({ where: { orgId, kind: 'charge' } })).toBe(100);
    expect(await checkLedger(coalesced, orgId)).toEqual([]);
    const spent = (u: number) => events.filter((e) => e.user === users[u]).reduce((s, e) => s + e.amount, 0n);
    expect(parseCredits((await getBalance(coalesced, orgId, users[0])).available)).toBe(500n * CREDIT - spent(0));
    expect(parseCredits((await getBalance(coalesced, orgId, users[1])).available)).toBe(500n * CREDIT - spent(1));
  });

  it('records an event id sent for two members at once for one of them, and refuses the other', async () => {
    const orgId = await newOrg();
    const users = [await newMember(orgId, 'both-a'), await newMember(orgId, 'both-b')];
    await grant(orgId, users[0], 100n);
    await grant(orgId, users[1], 100n);

    for (const i of range(20)) {
      const results = await Promise.all(
        users.map((user) => attempt(() => recordUsage(direct, orgId, { id: `shared-${i}`, user, amount: CREDIT }, system))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.find((r) => !r.ok)).toMatchObject({ code: 'event_conflict', status: 409 });
    }
    const available = await Promise.all(users.map(async (u) => parseCredits((await getBalance(direct, orgId, u)).available)));
    expect(available[0] + available[1]).toBe(180n * CREDIT);
    expect(await database.db.usageEvent.count({ where: { orgId } })).toBe(20);
    expect(await checkLedger(direct, orgId)).toEqual([]);
  });
});

describe('one idempotency key sent 50 times at once', () => {
  it.each([
    ['through the coalescer', () => coalesced],
    ['as separate statements', () => direct],
  ])('makes one reservation and gives every request its result (%s)', async (_name, context) => {
    const ctx = context();
    const orgId = await newOrg();
    const user = await newMember(orgId, 'idempotent');
    await grant(orgId, user, 10n);
    const idempotency = { key: 'reserve-once', hash: 'same-request' };

    const results = await Promise.all(range(50).map(() => reserveCredits(ctx, orgId, { user, amount: 3n * CREDIT }, system, idempotency)));

    for (const r of results) expect(r).toEqual(results[0]);
    expect(await database.db.reservation.count({ where: { orgId } })).toBe(1);
    expect(await database.db.reservation.findFirst({ where: { orgId } })).toMatchObject({ id: results[0].id });
    expect(await checkLedger(ctx, orgId)).toEqual([]);
    expect(await getBalance(ctx, orgId, user)).toMatchObject({ available: '7', reserved: '3' });
  });
});

describe('allocations racing pool-fallback holds', () => {
  it.each([
    ['through the coalescer', () => coalesced],
    ['as separate statements', () => direct],
  ])('never take more from the pool than it has (%s)', async (_name, context) => {
    const ctx = context();
    const orgId = await newOrg();
    await updateOrgPolicy(ctx, orgId, { pool_fallback: true }, system);
    const users = await Promise.all(range(8).map((i) => newMember(orgId, `fallback-${i}`)));
    await grant(orgId, undefined, 100n);

    // Demand of 20 x 5 allocated and 100 x 2 held is three times what the pool holds.
    const allocations = range(20).map((i) =>
      attempt(() => allocateCredits(ctx, orgId, { user: users[i % users.length], amount: 5n * CREDIT }, system)),
    );
    const holds = range(100).map((i) =>
      attempt(() => reserveCredits(ctx, orgId, { user: users[(i * 3) % users.length], amount: 2n * CREDIT }, system)),
    );
    const [moved, held] = await Promise.all([Promise.all(allocations), Promise.all(holds)]);

    for (const r of [...moved, ...held]) if (!r.ok) expect(r.code).toBe('insufficient_credits');
    const allocated = BigInt(moved.filter((r) => r.ok).length) * 5n * CREDIT;
    const fromPool = BigInt(held.filter((r) => r.ok && r.value.funded_by === 'pool').length) * 2n * CREDIT;
    const fromMembers = BigInt(held.filter((r) => r.ok && r.value.funded_by === 'user').length) * 2n * CREDIT;
    expect(allocated + fromPool).toBeLessThanOrEqual(100n * CREDIT);
    expect(fromMembers).toBeLessThanOrEqual(allocated);
    expect(held.some((r) => !r.ok) || moved.some((r) => !r.ok)).toBe(true);

    expect(await checkLedger(ctx, orgId)).toEqual([]);
    const poolBalance = await getBalance(ctx, orgId);
    expect(parseCredits(poolBalance.available)).toBeGreaterThanOrEqual(0n);
    expect(parseCredits(poolBalance.reserved)).toBe(fromPool);
    expect(parseCredits(poolBalance.available)).toBe(100n * CREDIT - allocated - fromPool);
    const members = await Promise.all(users.map((u) => getBalance(ctx, orgId, u)));
    const memberTotal = members.reduce((s, b) => s + parseCredits(b.total), 0n);
    expect(memberTotal).toBe(allocated);
    expect(members.reduce((s, b) => s + parseCredits(b.reserved), 0n)).toBe(fromMembers);
  });
});

describe('a commit racing a release of the same reservation', () => {
  it('lets exactly one of them resolve it and answers the other with the matching conflict', async () => {
    const orgId = await newOrg();
    const user = await newMember(orgId, 'resolve-race');
    await grant(orgId, user, 100n);
    let charged = 0n;

    for (const i of range(30)) {
      const r = await reserveCredits(direct, orgId, { user, amount: 2n * CREDIT }, system);
      const commit = () => commitReservation(direct, orgId, r.id, { amount: CREDIT }, system);
      const release = () => releaseReservation(direct, orgId, r.id, system);
      // Alternate which request is sent first; the pair is always [commit, release].
      const [committed, released] = await Promise.all(
        i % 2 === 0 ? [attempt(commit), attempt(release)] : [attempt(release), attempt(commit)].reverse(),
      );
      expect(committed.ok !== released.ok).toBe(true);
      if (committed.ok) {
        charged += CREDIT;
        expect(released).toMatchObject({ ok: false, code: 'reservation_already_committed', status: 409 });
      } else {
        expect(committed).toMatchObject({ ok: false, code: 'reservation_already_released', status: 409 });
      }
    }

    expect(await checkLedger(direct, orgId)).toEqual([]);
    const balance = await getBalance(direct, orgId, user);
    expect(balance).toMatchObject({ reserved: '0', debt: '0' });
    expect(parseCredits(balance.available)).toBe(100n * CREDIT - charged);
    expect(await database.db.ledgerTransaction.count({ where: { orgId, kind: 'charge' } })).toBe(Number(charged / CREDIT));
  });
});
