/**
 * The proxy's production meter, through the OpenAI SDK: requests are held from a lease of the member's own
 * credits, charged exactly their priced usage with one usage record each, never beyond what the member has;
 * members funded by the pool are held per request; what a stopped process owed is charged by reconcile, which
 * then releases its leases.
 */
import { readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerContext } from '../ledger/context.ts';
import { grantCredits } from '../ledger/credits.ts';
import { updateOrgPolicy } from '../ledger/policies.ts';
import { checkLedger, getBalance } from '../ledger/queries.ts';
import { estimatedHold } from '../ledger/model-inputs.ts';
import { getMetrics } from '../metrics/registry.ts';
import { parseCredits } from '../money/credits.ts';
import { ensureGlobalCatalog, priceUsage } from '../pricing/index.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { settlementsDone } from './handle.ts';
import { leasedMeter } from './leased-meter.ts';
import { saveProxySettings } from './settings.ts';
import { reconcileSettlementDir } from './settlement-reconcile.ts';
import { startTestProxy, type TestProxy } from './testing/proxy-harness.ts';

let database: TestDatabase;
const MODEL = 'gpt-4o-mini';
const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
const system = { type: 'system' } as const;

beforeAll(async () => {
  database = await useTestDatabase();
  await ensureGlobalCatalog(database.db);
});

afterAll(async () => {
  await database.db.$disconnect();
});

const client = (proxy: TestProxy, org: TestOrg, user: string) =>
  new OpenAI({ apiKey: org.keys.meter, baseURL: proxy.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': user } });
const balance = async (proxy: TestProxy, org: TestOrg, user?: string) => {
  const b = await getBalance(proxy.ctx, org.id, user);
  return { available: parseCredits(b.available), reserved: parseCredits(b.reserved), total: parseCredits(b.total) };
};
const priced = async (proxy: TestProxy, org: TestOrg, usage: OpenAI.CompletionUsage) =>
  (await priceUsage(proxy.ctx, org.id, { model: MODEL, input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens })).amount;
/** An org whose rate limits never refuse these tests' bursts. */
async function openOrg(slug: string): Promise<TestOrg> {
  const created = await createTestOrg(database.db, slug);
  const high = 1_000_000;
  await saveProxySettings(
    database.db,
    created.id,
    { keyRequestsPerMinute: high, keyTokensPerMinute: high, keyConcurrentRequests: high, userRequestsPerMinute: high, userTokensPerMinute: high, userConcurrentRequests: high, degradation: 'fail_closed', failOpenUserCap: '0' },
    system,
  );
  return created;
}
const leases = (org: TestOrg) => database.db.reservation.findMany({ where: { orgId: org.id, metadata: { path: ['$lease'], equals: true } } });

/** The ledger context with captures of leases lost on the way to the database while `down()` says so. */
function capturesFailing(ctx: LedgerContext, down: () => boolean): LedgerContext {
  const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
  return {
    ...ctx,
    coalescer: undefined,
    run: (sql, params) => (String(params[1]).includes('"type":"capture"') && down() ? Promise.reject(lost) : ctx.run(sql, params)),
  };
}

/**
 * A proxy with the leased meter and an org with one member `user` who has 3.5 holds of a call of these tests
 * (max_tokens 7): the first lease takes 1.75 of them, 0.75 staying free once it answers one call.
 */
async function memberWithLittle(slug: string, user: string) {
  const proxy = await startTestProxy(database.db, database.url, { meter: (ctx, journalDir) => leasedMeter(ctx, { journalDir }) });
  const org = await openOrg(slug);
  await createTestMember(database.db, org.id, user);
  const hold = (await estimatedHold(proxy.ctx, org.id, { model: MODEL, estimate: { messages, max_output_tokens: 7 } })).amount;
  await grantCredits(proxy.ctx, org.id, { user, amount: (hold * 7n) / 2n, reason: 'Seed' }, system);
  return { proxy, org, hold };
}

describe('the leased proxy meter', () => {
  let proxy: TestProxy;
  let org: TestOrg;

  beforeAll(async () => {
    proxy = await startTestProxy(database.db, database.url, { meter: (ctx, journalDir) => leasedMeter(ctx, { journalDir, idleMs: 60_000 }) });
    org = await openOrg('leased-proxy');
    for (const user of ['ada', 'bob']) {
      await createTestMember(database.db, org.id, user);
      await grantCredits(proxy.ctx, org.id, { user, amount: 100_000_000n, reason: 'Seed' }, system);
    }
  });

  afterAll(async () => {
    await settlementsDone();
    await proxy.deps.meter.close!();
    expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
    await proxy.close();
  });

  it('answers a member from one lease, charges each request exactly with its own record, and releases the rest', async () => {
    const before = await balance(proxy, org, 'ada');
    const counted = async () => {
      const m = getMetrics();
      const value = async (c: typeof m.proxyHolds | typeof m.proxySettlements, outcome: string) => (await c.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
      return [await value(m.proxyHolds, 'held'), await value(m.proxySettlements, 'charged')];
    };
    const [heldBefore, chargedBefore] = await counted();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => client(proxy, org, 'ada').chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse()),
    );
    const { data: stream, response: streamed } = await client(proxy, org, 'ada')
      .chat.completions.create({ model: MODEL, messages, max_tokens: 9, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let streamUsage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) streamUsage = chunk.usage;
    await settlementsDone();

    const charges = [...(await Promise.all(answers.map((a) => priced(proxy, org, a.data.usage!)))), await priced(proxy, org, streamUsage!)];
    answers.forEach((a, i) => expect(parseCredits(a.response.headers.get('x-credits-charged')!)).toBe(charges[i]));
    const spent = charges.reduce((a, b) => a + b, 0n);
    // Charged exactly; the lease still holds credits for the next requests, shown as reserved.
    const during = await balance(proxy, org, 'ada');
    expect(during.total).toBe(before.total - spent);
    expect(during.reserved).toBeGreaterThan(0n);
    const held = await leases(org);
    expect(held).toHaveLength(1);
    expect(streamed.headers.get('x-credits-reservation')).toBe(held[0].id);

    const records = await database.db.usageRecord.findMany({ where: { orgId: org.id, membershipId: held[0].membershipId } });
    expect(records.map((r) => r.requestId).sort()).toEqual([...answers.map((a) => a.response.headers.get('x-request-id')), streamed.headers.get('x-request-id')].sort());
    expect(records.every((r) => r.status === 'ok' && r.apiKeyId !== null && r.priceVersionId !== null && r.transactionId !== null)).toBe(true);
    expect(records.reduce((a, r) => a + r.cost, 0n)).toBe(spent);
    // The metrics count the proxy's holds and charges, though a lease makes no ledger operation per call.
    expect(await counted()).toEqual([heldBefore + 7, chargedBefore + 7]);

    await proxy.deps.meter.close!();
    expect(await balance(proxy, org, 'ada')).toEqual({ available: before.available - spent, reserved: 0n, total: before.total - spent });
    expect((await leases(org)).map((l) => l.status)).toEqual(['released']);
  });

  it('records how long the upstream took, and charges a call whose client left before its answer, as cancelled', async () => {
    proxy.fake.setLatency(150);
    try {
      const done = await client(proxy, org, 'bob').chat.completions.create({ model: MODEL, messages, max_tokens: 3 }).withResponse();
      const left = new AbortController();
      setTimeout(() => left.abort(), 50);
      const gone = await client(proxy, org, 'bob')
        .chat.completions.create({ model: MODEL, messages, max_tokens: 4 }, { signal: left.signal })
        .catch((err: unknown) => err);
      expect(gone).toBeInstanceOf(OpenAI.APIUserAbortError);
      await new Promise((r) => setTimeout(r, 200));
      await settlementsDone();
      const records = await database.db.usageRecord.findMany({ where: { orgId: org.id, outputTokens: { in: [3n, 4n] } }, orderBy: { outputTokens: 'asc' } });
      expect(records.map((r) => [r.outputTokens, r.status])).toEqual([
        [3n, 'ok'],
        [4n, 'cancelled'],
      ]);
      expect(records[0].requestId).toBe(done.response.headers.get('x-request-id'));
      for (const r of records) {
        expect(r.latencyMs).toBeGreaterThanOrEqual(150);
        expect(r.cost).toBe(await priced(proxy, org, { prompt_tokens: Number(r.inputTokens), completion_tokens: Number(r.outputTokens), total_tokens: 0 }));
      }
    } finally {
      proxy.fake.setLatency(0);
    }
  });

  it('holds a member without credits of their own per request, from the pool', async () => {
    const pooled = await openOrg('leased-pool');
    await createTestMember(database.db, pooled.id, 'cy');
    await grantCredits(proxy.ctx, pooled.id, { amount: 100_000_000n, reason: 'Pool' }, system);
    await updateOrgPolicy(proxy.ctx, pooled.id, { pool_fallback: true }, system);
    const poolBefore = await balance(proxy, pooled);
    const { data } = await client(proxy, pooled, 'cy').chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse();
    await settlementsDone();
    expect((await balance(proxy, pooled)).available).toBe(poolBefore.available - (await priced(proxy, pooled, data.usage!)));
    expect(await leases(pooled)).toEqual([]);
    expect(await checkLedger(proxy.ctx, pooled.id)).toEqual([]);
  });
});

describe('a member with little credit', () => {
  it('is never answered beyond what they have, however many requests arrive at once', async () => {
    const proxy = await startTestProxy(database.db, database.url, { meter: (ctx, journalDir) => leasedMeter(ctx, { journalDir }) });
    const scarce = await openOrg('leased-scarce');
    await createTestMember(database.db, scarce.id, 'dee');
    // Enough for a few holds of max_tokens 200 at once, and less than all 120 requests cost.
    await grantCredits(proxy.ctx, scarce.id, { user: 'dee', amount: 60_000n, reason: 'Seed' }, system);
    const results = await Promise.all(
      Array.from({ length: 120 }, () =>
        client(proxy, scarce, 'dee')
          .chat.completions.create({ model: MODEL, messages, max_tokens: 200 })
          .withResponse()
          .then((r) => ({ ok: true as const, charged: parseCredits(r.response.headers.get('x-credits-charged')!) }))
          .catch((err: unknown) => ({ ok: false as const, status: (err as { status?: number }).status })),
      ),
    );
    await settlementsDone();
    await proxy.deps.meter.close!();
    const ok = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status === 402)).toBe(true);
    const spent = ok.reduce((a, r) => a + r.charged, 0n);
    expect(await balance(proxy, scarce, 'dee')).toEqual({ available: 60_000n - spent, reserved: 0n, total: 60_000n - spent });
    expect(await checkLedger(proxy.ctx, scarce.id)).toEqual([]);
    await proxy.close();
  });
});

describe('a member with little left', () => {
  it('gets the credits their leases hold for no request back before a request that fits what they have left is refused', async () => {
    // The second request does not fit in the 0.75 the first lease has left, and a second lease takes one hold;
    // the third finds 0.75 outside the leases, and 0.75 held by the first lease for no request.
    const { proxy, org } = await memberWithLittle('leased-spare', 'fay');
    proxy.fake.setLatency(400);
    const answers: Array<Promise<{ charged: bigint; remaining: bigint } | number | undefined>> = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        client(proxy, org, 'fay')
          .chat.completions.create({ model: MODEL, messages, max_tokens: 7 })
          .withResponse()
          .then(
            ({ response }) => ({ charged: parseCredits(response.headers.get('x-credits-charged')!), remaining: parseCredits(response.headers.get('x-credits-remaining')!) }),
            (err: { status?: number }) => err.status,
          ),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    const answered = await Promise.all(answers);
    expect(answered.every((a) => typeof a === 'object')).toBe(true);
    await settlementsDone();
    await proxy.deps.meter.close!();
    expect((await balance(proxy, org, 'fay')).reserved).toBe(0n);
    expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
    await proxy.close();
  });
});

describe('a member whose calls run from two leases', () => {
  it('is told what all their leases hold free in x-credits-remaining', async () => {
    // The second call needs a second lease, of one hold.
    const { proxy, org, hold } = await memberWithLittle('leased-two', 'gil');
    // The first call streams slowly: it holds its part until after the second has its answer.
    proxy.fake.setLatency(0, 100);
    const first = await client(proxy, org, 'gil').chat.completions.create({ model: MODEL, messages, max_tokens: 7, stream: true });
    const { response } = await client(proxy, org, 'gil').chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse();
    const charged = parseCredits(response.headers.get('x-credits-charged')!);
    // All the member had, but the first call's hold and the second call's charge.
    expect(parseCredits(response.headers.get('x-credits-remaining')!)).toBe((hold * 7n) / 2n - hold - charged);
    for await (const _ of first);
    proxy.fake.setLatency(0, 0);
    expect(await leases(org)).toHaveLength(2);
    await settlementsDone();
    await proxy.deps.meter.close!();
    expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
    await proxy.close();
  });
});

describe('captures while the database cannot be reached', () => {
  it('keeps the charges owed and the lease held until a capture gets through, however many attempts fail', async () => {
    let down = true;
    let attempts = 0;
    const flaky = (ctx: LedgerContext) =>
      capturesFailing(ctx, () => {
        attempts += 1;
        return down;
      });
    const proxy = await startTestProxy(database.db, database.url, {
      meter: (ctx, journalDir) => leasedMeter(flaky(ctx), { journalDir, captureAttempts: 2, captureDelayMs: 10, idleMs: 50 }),
    });
    const org = await openOrg('leased-outage');
    await createTestMember(database.db, org.id, 'ivy');
    await grantCredits(proxy.ctx, org.id, { user: 'ivy', amount: 100_000_000n, reason: 'Seed' }, system);
    const before = await balance(proxy, org, 'ivy');
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => client(proxy, org, 'ivy').chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse()),
    );
    // The requests stop waiting after two attempts; the lease stays held (idle or not) and captures go on.
    await settlementsDone();
    while (attempts < 4) await new Promise((r) => setTimeout(r, 50));
    expect((await leases(org)).map((l) => l.status)).toEqual(['active']);
    expect((await balance(proxy, org, 'ivy')).total).toBe(before.total);

    down = false;
    const spent = answers.reduce((a, r) => a + parseCredits(r.response.headers.get('x-credits-charged')!), 0n);
    for (let i = 0; i < 200 && (await leases(org))[0].status === 'active'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await leases(org)).map((l) => l.status)).toEqual(['released']);
    expect(await balance(proxy, org, 'ivy')).toEqual({ available: before.available - spent, reserved: 0n, total: before.total - spent });
    expect(await database.db.usageRecord.count({ where: { orgId: org.id } })).toBe(3);
    expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
    await proxy.close();
  });
});

describe('a process that stops owing charges', () => {
  /** Three calls answered from a lease whose captures never reach the database; then the process is gone. */
  async function stoppedOwing(slug: string, user: string) {
    // Captures never reach the database, as when the process dies first.
    const failing = (ctx: LedgerContext) => capturesFailing(ctx, () => true);
    const proxy = await startTestProxy(database.db, database.url, { meter: (ctx, journalDir) => leasedMeter(failing(ctx), { journalDir, captureAttempts: 1 }) });
    const org = await openOrg(slug);
    await createTestMember(database.db, org.id, user);
    await grantCredits(proxy.ctx, org.id, { user, amount: 100_000_000n, reason: 'Seed' }, system);
    const before = await balance(proxy, org, user);
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => client(proxy, org, user).chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse()),
    );
    await settlementsDone();
    expect((await balance(proxy, org, user)).total).toBe(before.total);
    expect(await leases(org)).toHaveLength(1);
    // The files as a stopped process leaves them (its process id no longer runs).
    const dir = proxy.deps.settlements.dir;
    for (const name of readdirSync(dir)) renameSync(path.join(dir, name), path.join(dir, name.replace(/^\d+-/, '999999999-')));
    const spent = answers.reduce((a, r) => a + parseCredits(r.response.headers.get('x-credits-charged')!), 0n);
    return { proxy, org, dir, before, spent };
  }

  it('leaves them to reconcile, which charges each once and then releases its lease', async () => {
    const { proxy, org, dir, before, spent } = await stoppedOwing('leased-stopped', 'eve');
    expect(await reconcileSettlementDir(leasedMeter(proxy.ctx), dir)).toMatchObject({ settled: 3, leasesReleased: 1, refused: [], failed: [] });
    expect(await balance(proxy, org, 'eve')).toEqual({ available: before.available - spent, reserved: 0n, total: before.total - spent });
    expect(await database.db.usageRecord.count({ where: { orgId: org.id } })).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
    expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
    await proxy.close();
  });

  it('charges them as usage events of the member when the lease expired before reconcile ran', async () => {
    const { proxy, org, dir, before, spent } = await stoppedOwing('leased-expired', 'kim');
    await database.db.reservation.updateMany({ where: { orgId: org.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await reconcileSettlementDir(leasedMeter(proxy.ctx), dir)).toMatchObject({ settled: 3, leasesReleased: 1, refused: [], failed: [] });
    expect(await balance(proxy, org, 'kim')).toEqual({ available: before.available - spent, reserved: 0n, total: before.total - spent });
    const records = await database.db.usageRecord.findMany({ where: { orgId: org.id } });
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.model === MODEL && r.usageEventId !== null && r.outputTokens > 0n)).toBe(true);
    expect(await database.db.reservation.findMany({ where: { orgId: org.id }, select: { status: true } })).toEqual([{ status: 'expired' }]);
    expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
    await proxy.close();
  });
});
