import { beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../db/pg.ts';
import { formatCredits } from '../money/credits.ts';
import { createOrg } from '../orgs/orgs.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { pgRunner, type UsageOp } from './apply.ts';
import { laneOf } from './coalescer.ts';
import type { LedgerContext } from './context.ts';
import { allocateCredits, grantCredits } from './credits.ts';
import { recordUsageBatch } from './metering.ts';
import { USAGE_BATCH_LANES, usageBatchLanes } from './usage-batch.ts';
import { updateOrgPolicy } from './policies.ts';
import { checkLedger, getBalance, listTransactions } from './queries.ts';

const system = { type: 'system' } as const;
let t: TestDatabase;
let ctx: LedgerContext;

async function orgWithMembers(slug: string, members: number) {
  const org = await createOrg(t.db, { slug, name: slug }, system);
  const users: string[] = [];
  for (let i = 0; i < members; i++) {
    const { user } = await createUser(t.db, { externalId: `${slug}-u${i}`, org: { id: org.id, role: 'member' } }, system);
    users.push(user.id);
  }
  return { org, users };
}

/** An org whose members have 10 credits each, from a pool of 1,000. */
async function fundedMembers(slug: string, members: number) {
  const created = await orgWithMembers(slug, members);
  await grantCredits(ctx, created.org.id, { amount: 1_000_000_000n, reason: 'seed' }, system);
  for (const user of created.users) await allocateCredits(ctx, created.org.id, { user, amount: 10_000_000n }, system);
  return created;
}

beforeAll(async () => {
  t = await useTestDatabase();
  ctx = { db: t.db, run: pgRunner(createPgPool(t.url, 4)) };
});

describe('batch usage ingestion', () => {
  it('charges each event once, in order while credits last, and answers per event', async () => {
    const { org, users } = await orgWithMembers('batch-a', 2);
    await grantCredits(ctx, org.id, { amount: 100_000_000n, reason: 'seed' }, system);
    await allocateCredits(ctx, org.id, { user: users[0], amount: 5_000_000n }, system);
    await allocateCredits(ctx, org.id, { user: users[1], amount: 1_000_000n }, system);

    const results = await recordUsageBatch(
      ctx,
      org.id,
      [
        { id: 'e1', user: users[0], amount: 2_000_000n },
        { id: 'e2', user: users[1], amount: 600_000n },
        { id: 'e1', user: users[0], amount: 2_000_000n }, // repeated in the batch: duplicate
        { id: 'e3', user: users[1], amount: 600_000n }, // does not fit any more
        { id: 'e4', user: users[0], amount: 3_000_000n }, // exactly what is left
        { id: 'e2', user: users[1], amount: 1n }, // same id, other content
        { id: 'e5', user: 'nobody', amount: 1n },
        { id: 'e6', user: users[1], amount: 0n }, // nothing to charge: recorded even after a refusal
      ],
      system,
    );
    expect(results.map((r) => r.status)).toEqual(['charged', 'charged', 'duplicate', 'rejected', 'charged', 'rejected', 'rejected', 'charged']);
    expect(results[3]).toMatchObject({ error: { code: 'insufficient_credits' } });
    expect(results[5]).toMatchObject({ error: { code: 'event_conflict' } });
    expect(results[6]).toMatchObject({ error: { code: 'not_found' } });
    expect((await getBalance(ctx, org.id, users[0])).available).toBe('0');
    expect((await getBalance(ctx, org.id, users[1])).available).toBe('0.4');

    // Sent again: nothing is charged twice.
    const again = await recordUsageBatch(ctx, org.id, [{ id: 'e1', user: users[0], amount: 2_000_000n }, { id: 'e4', user: users[0], amount: 3_000_000n }], system);
    expect(again.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect((await getBalance(ctx, org.id, users[0])).available).toBe('0');
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('refuses an event with a bad timestamp alone, and charges a member out of credits from the pool when the org allows it', async () => {
    const { org, users } = await orgWithMembers('batch-pool', 2);
    await grantCredits(ctx, org.id, { amount: 100_000_000n, reason: 'seed' }, system);
    await allocateCredits(ctx, org.id, { user: users[0], amount: 1_000_000n }, system);
    await updateOrgPolicy(ctx, org.id, { pool_fallback: true, pool_daily_limit: 5_000_000n }, system);
    const longAgo = new Date(Date.now() - 401 * 86_400_000).toISOString();
    const results = await recordUsageBatch(
      ctx,
      org.id,
      [
        { id: 'p1', user: users[0], amount: 1_000_000n }, // the member's own credit
        { id: 'p2', user: users[0], amount: 2_000_000n }, // from the pool
        { id: 'p3', user: users[1], amount: 1_000_000n, timestamp: longAgo }, // beyond the backfill window
        { id: 'p4', user: users[1], amount: 5_000_000n }, // from the pool: this member's daily limit
        { id: 'p5', user: users[1], amount: 1n }, // beyond it
      ],
      system,
    );
    expect(results.map((r) => r.status)).toEqual(['charged', 'charged', 'rejected', 'charged', 'rejected']);
    expect(results[2]).toMatchObject({ error: { code: 'validation_failed' } });
    expect(results[4]).toMatchObject({ error: { code: 'insufficient_credits' } });
    expect((await getBalance(ctx, org.id)).available).toBe('92');
    expect((await getBalance(ctx, org.id, users[0])).available).toBe('0');
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('splits receipts across lots in spend order and takes overdraft only within the limit', async () => {
    const { org, users } = await orgWithMembers('batch-b', 1);
    await grantCredits(ctx, org.id, { amount: 3_000_000n, reason: 'promo', priority: 5 }, system);
    await grantCredits(ctx, org.id, { amount: 3_000_000n, reason: 'bought' }, system);
    await allocateCredits(ctx, org.id, { user: users[0], amount: 6_000_000n }, system);
    await updateOrgPolicy(ctx, org.id, { overdraft_limit: 1_000_000n }, system);

    const results = await recordUsageBatch(
      ctx,
      org.id,
      [
        { id: 'x1', user: users[0], amount: 2_000_000n },
        { id: 'x2', user: users[0], amount: 2_000_000n }, // 1 from the promo lot, 1 from the bought lot
        { id: 'x3', user: users[0], amount: 2_500_000n }, // 2 from the bought lot, 0.5 overdraft
        { id: 'x4', user: users[0], amount: 600_000n }, // beyond the overdraft limit
      ],
      system,
    );
    expect(results.map((r) => r.status)).toEqual(['charged', 'charged', 'charged', 'rejected']);
    const balance = await getBalance(ctx, org.id, users[0]);
    expect(balance).toMatchObject({ available: '-0.5', debt: '0.5' });

    const { data } = await listTransactions(ctx, org.id, { user: users[0], kind: 'charge' });
    const receipt = (id: string) => data.find((t) => t.usage_event_id && results.find((r) => r.id === id && 'transaction_id' in r && r.transaction_id === t.id))?.receipt;
    expect(receipt('x1')?.map((p) => p.amount)).toEqual(['2']);
    expect(receipt('x2')?.map((p) => p.amount).sort()).toEqual(['1', '1']);
    expect(receipt('x3')?.map((p) => [p.source, p.amount]).sort()).toEqual([['allocation', '2'], ['overdraft', '0.5']]);
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('keeps a thousand events on one account exact', async () => {
    const { org, users } = await orgWithMembers('batch-c', 1);
    await grantCredits(ctx, org.id, { amount: 1_000_000_000n, reason: 'seed' }, system);
    await allocateCredits(ctx, org.id, { user: users[0], amount: 500_000_000n }, system);
    const events = Array.from({ length: 1000 }, (_, i) => ({ id: `h${i}`, user: users[0], amount: 1_000n * BigInt(i % 7) }));
    const results = await recordUsageBatch(ctx, org.id, events, system);
    expect(results.every((r) => r.status === 'charged')).toBe(true);
    const total = events.reduce((s, e) => s + e.amount, 0n);
    expect((await getBalance(ctx, org.id, users[0])).available).toBe(formatCredits(500_000_000n - total));
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });
  it('answers a batch split into lanes exactly as one call would: per account, in order, while credits last', async () => {
    const { org, users } = await fundedMembers('batch-lanes', 30);
    // 600 events over 30 members, 20 each of 0.5 to 1.1 credits: each member can pay for only some of them,
    // and which ones depends on the order. Some ids repeat for the same member (a duplicate, or a conflict).
    const events = Array.from({ length: 600 }, (_, i) => ({
      id: i % 97 === 5 ? `lane-${i - 30}` : `lane-${i}`,
      user: users[i % 30],
      amount: 500_000n + 100_000n * BigInt(i % 7),
    }));
    expect(usageBatchLanes(events.map((e) => ({ id: e.id, lane: e.user })))).toBeGreaterThan(1);

    // A member's events are taken in order until the first that does not fit; the later ones are refused too.
    const left = new Map(users.map((u) => [u, 10_000_000n]));
    const stopped = new Set<string>();
    const seen = new Map<string, bigint>();
    const expected = events.map((e) => {
      const first = seen.get(e.id);
      if (first !== undefined) return first === e.amount ? 'duplicate' : 'rejected';
      if (stopped.has(e.user) || e.amount > left.get(e.user)!) {
        stopped.add(e.user);
        return 'rejected';
      }
      left.set(e.user, left.get(e.user)! - e.amount);
      seen.set(e.id, e.amount);
      return 'charged';
    });
    const results = await recordUsageBatch(ctx, org.id, events, system);
    expect(results.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(results.map((r) => r.status)).toEqual(expected);
    for (const user of users) expect((await getBalance(ctx, org.id, user)).available).toBe(formatCredits(left.get(user)!));
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('keeps a batch whole when an event id names two members, so its first occurrence wins', async () => {
    const { org, users } = await fundedMembers('batch-whole', 20);
    const events = Array.from({ length: 400 }, (_, i) => ({ id: `w-${i}`, user: users[i % 20], amount: 1_000n }));
    events[399] = { id: 'w-0', user: users[7], amount: 1_000n };
    expect(usageBatchLanes(events.map((e) => ({ id: e.id, lane: e.user })))).toBe(1);
    const results = await recordUsageBatch(ctx, org.id, events, system);
    expect(results[0].status).toBe('charged');
    expect(results[399]).toMatchObject({ status: 'rejected', error: { code: 'event_conflict' } });
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });
  it('answers the events of a lane that failed as unavailable, the other lanes charged, and a resend charges each once', async () => {
    const { org, users } = await fundedMembers('batch-lane-fails', 12);
    const events = Array.from({ length: 480 }, (_, i) => ({ id: `lf-${i}`, user: users[i % 12], amount: 10_000n }));
    // The lane of the first member's account loses its connection (as a database restart would do).
    const accountOf = new Map<string, string>();
    let broken: number | null = null;
    const failing: LedgerContext = {
      ...ctx,
      run: async (sql, params) => {
        if (sql.includes('ledger_usage_batch')) {
          const ops = JSON.parse(params[1] as string) as UsageOp[];
          for (const op of ops) accountOf.set(op.event_id, op.account_id);
          // The lanes' statements come in any order: the broken one is the one with lf-0.
          const first = ops.find((op) => op.event_id === 'lf-0');
          if (first) {
            broken = laneOf(first.account_id, USAGE_BATCH_LANES);
            throw new Error('Connection terminated unexpectedly');
          }
        }
        return ctx.run(sql, params);
      },
    };
    const results = await recordUsageBatch(failing, org.id, events, system);
    const lost = results.filter((r) => r.status === 'rejected');
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThan(events.length);
    expect(results.filter((r) => r.status === 'charged').length).toBe(events.length - lost.length);
    for (const r of lost) {
      expect(r).toMatchObject({ error: { code: 'unavailable' } });
      expect(laneOf(accountOf.get(r.id)!, USAGE_BATCH_LANES)).toBe(broken);
    }
    // Each member paid for exactly their events that were answered charged.
    const paidFor = async (answered: typeof results) => {
      for (const [k, user] of users.entries()) {
        const count = answered.filter((r, i) => i % 12 === k && r.status !== 'rejected').length;
        expect((await getBalance(ctx, org.id, user)).available).toBe(formatCredits(10_000_000n - 10_000n * BigInt(count)));
      }
    };
    await paidFor(results);

    // Sent again whole, once the database is back: the lost events are charged, the others are duplicates.
    const again = await recordUsageBatch(ctx, org.id, events, system);
    expect(again.filter((r) => r.status === 'charged').map((r) => r.id).sort()).toEqual(lost.map((r) => r.id).sort());
    expect(again.filter((r) => r.status === 'duplicate').length).toBe(events.length - lost.length);
    await paidFor(again);
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('fails a batch whose every lane failed', async () => {
    const { org, users } = await fundedMembers('batch-all-fail', 8);
    const down: LedgerContext = {
      ...ctx,
      run: async (sql, params) => {
        if (sql.includes('ledger_usage_batch')) throw new Error('Connection terminated unexpectedly');
        return ctx.run(sql, params);
      },
    };
    const events = Array.from({ length: 400 }, (_, i) => ({ id: `af-${i}`, user: users[i % 8], amount: 10_000n }));
    await expect(recordUsageBatch(down, org.id, events, system)).rejects.toThrow('Connection terminated');
    for (const user of users) expect((await getBalance(ctx, org.id, user)).available).toBe('10');
  });
  it('answers a keyed batch again exactly as the first time, the refusals of unknown members included', async () => {
    const { org, users } = await orgWithMembers('batch-key-small', 1);
    await grantCredits(ctx, org.id, { amount: 100_000_000n, reason: 'seed' }, system);
    await allocateCredits(ctx, org.id, { user: users[0], amount: 5_000_000n }, system);
    const events = [
      { id: 'k-1', user: 'batch-key-small-late', amount: 1_000n },
      { id: 'k-2', user: users[0], amount: 2_000n },
    ];
    const key = { key: 'api:small', hash: 'h-small' };
    const first = await recordUsageBatch(ctx, org.id, events, system, key);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'charged']);
    // The member the first event named exists now; the same request with the same key still gets the first answer.
    await createUser(t.db, { externalId: 'batch-key-small-late', org: { id: org.id, role: 'member' } }, system);
    expect(await recordUsageBatch(ctx, org.id, events, system, key)).toEqual(first);
    expect((await getBalance(ctx, org.id, users[0])).available).toBe('4.998');
  });

  it('splits a keyed batch into lanes that each store their answer, so a repeat answers the same and another body is refused', async () => {
    const { org, users } = await fundedMembers('batch-key-lanes', 12);
    const events = Array.from({ length: 400 }, (_, i) => ({ id: `kl-${i}`, user: i % 50 === 7 ? 'batch-key-lanes-late' : users[i % 12], amount: 10_000n }));
    let calls = 0;
    const counting: LedgerContext = { ...ctx, run: (sql, params) => ((calls += sql.includes('ledger_usage_batch') ? 1 : 0), ctx.run(sql, params)) };
    const key = { key: 'api:lanes', hash: 'h-lanes' };

    const first = await recordUsageBatch(counting, org.id, events, system, key);
    // One call per lane that has events: lanes are by the user reference as sent.
    const lanesUsed = new Set(events.map((e) => laneOf(e.user, USAGE_BATCH_LANES))).size;
    expect(lanesUsed).toBeGreaterThan(1);
    expect(calls).toBe(lanesUsed);
    expect(first.filter((r) => r.status === 'rejected').map((r) => r.id)).toEqual(events.filter((e) => e.user.endsWith('late')).map((e) => e.id));
    expect(first.filter((r) => r.status === 'charged')).toHaveLength(392);

    await createUser(t.db, { externalId: 'batch-key-lanes-late', org: { id: org.id, role: 'member' } }, system);
    expect(await recordUsageBatch(counting, org.id, events, system, key)).toEqual(first);
    for (const [k, user] of users.entries()) {
      const count = events.filter((e, i) => i % 12 === k && e.user === user).length;
      expect((await getBalance(ctx, org.id, user)).available).toBe(formatCredits(10_000_000n - 10_000n * BigInt(count)));
    }

    // The same key with another body is refused, whether that body is split into lanes the same way or not.
    for (const other of [events.slice(0, 150), events.slice(0, 50), events.map((e) => ({ ...e, amount: 20_000n }))]) {
      await expect(recordUsageBatch(ctx, org.id, other, system, { key: 'api:lanes', hash: 'h-other' })).rejects.toMatchObject({ code: 'idempotency_mismatch' });
    }
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('charges a keyed batch in lanes once when it is sent five times at once, and answers each the same', async () => {
    const { org, users } = await fundedMembers('batch-key-race', 12);
    const events = Array.from({ length: 400 }, (_, i) => ({ id: `kr-${i}`, user: users[i % 12], amount: 10_000n }));
    const key = { key: 'api:race', hash: 'h-race' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => recordUsageBatch(ctx, org.id, events, system, key)));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0].every((r) => r.status === 'charged')).toBe(true);
    for (const [k, user] of users.entries()) {
      const count = events.filter((_, i) => i % 12 === k).length;
      expect((await getBalance(ctx, org.id, user)).available).toBe(formatCredits(10_000_000n - 10_000n * BigInt(count)));
    }
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });

  it('fails a keyed batch whose lane failed, and its repeat with the key charges the rest once', async () => {
    const { org, users } = await fundedMembers('batch-key-fail', 12);
    const events = Array.from({ length: 400 }, (_, i) => ({ id: `kf-${i}`, user: users[i % 12], amount: 10_000n }));
    let failed = false;
    const failing: LedgerContext = {
      ...ctx,
      run: async (sql, params) => {
        if (sql.includes('ledger_usage_batch') && !failed && (JSON.parse(params[1] as string) as UsageOp[]).some((op) => op.event_id === 'kf-0')) {
          failed = true;
          throw new Error('Connection terminated unexpectedly');
        }
        return ctx.run(sql, params);
      },
    };
    const key = { key: 'api:fails', hash: 'h-fails' };
    await expect(recordUsageBatch(failing, org.id, events, system, key)).rejects.toThrow('Connection terminated');
    expect(failed).toBe(true);
    const again = await recordUsageBatch(failing, org.id, events, system, key);
    expect(again.every((r) => r.status === 'charged')).toBe(true);
    for (const user of users) expect((await getBalance(ctx, org.id, user)).available).toBe(formatCredits(10_000_000n - 10_000n * BigInt(events.length / 12 | 0) - (users.indexOf(user) < events.length % 12 ? 10_000n : 0n)));
    expect(await checkLedger(ctx, org.id)).toEqual([]);
  });
});
