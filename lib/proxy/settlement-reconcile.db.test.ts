/**
 * A settlement owed after its answer survives the commit failing (as when the process dies in between): the
 * journal keeps it, and reconcile commits exactly the charge the answer named, once, with the same usage
 * record as an ordinary settlement.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from '../ledger/credits.ts';
import { checkLedger, getBalance } from '../ledger/queries.ts';
import { parseCredits } from '../money/credits.ts';
import { ensureGlobalCatalog, priceUsage } from '../pricing/index.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { settlementsDone } from './handle.ts';
import { pricedMeter } from './priced-meter.ts';
import type { PendingSettlement } from './settlement-journal.ts';
import { reconcileSettlementDir } from './settlement-reconcile.ts';
import { startTestProxy, type TestProxy } from './testing/proxy-harness.ts';

let database: TestDatabase;
let proxy: TestProxy;
let org: TestOrg;
const MODEL = 'gpt-4o-mini';
const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

beforeAll(async () => {
  database = await useTestDatabase();
  await ensureGlobalCatalog(database.db);
  // Every settlement fails as if the process died before committing it.
  proxy = await startTestProxy(database.db, database.url, { meter: pricedMeter, override: (deps) => ({ meter: { ...deps.meter, settle: () => Promise.reject(lost) } }) });
  org = await createTestOrg(database.db, 'settlement-journal');
  await createTestMember(database.db, org.id, 'ada');
  await grantCredits(proxy.ctx, org.id, { user: 'ada', amount: 100_000_000n, reason: 'Seed' }, { type: 'system' });
});

afterAll(async () => {
  await settlementsDone();
  expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
  await proxy.close();
  await database.db.$disconnect();
});

const client = () => new OpenAI({ apiKey: org.keys.meter, baseURL: proxy.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': 'ada' } });
const balance = () => getBalance(proxy.ctx, org.id, 'ada');
const journaled = (): PendingSettlement[] => {
  const dir = proxy.deps.settlements.dir;
  return readdirSync(dir).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PendingSettlement));
};

describe('the settlement journal', () => {
  it('lets reconcile commit exactly the charge a JSON answer named, once', async () => {
    const before = parseCredits((await balance()).available);
    const { data, response } = await client().chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse();
    const named = parseCredits(response.headers.get('x-credits-charged')!);
    await settlementsDone();
    expect(parseCredits((await balance()).reserved)).toBeGreaterThan(0n);

    const stream = await client().chat.completions.create({ model: MODEL, messages, max_tokens: 5, stream: true });
    for await (const _ of stream);
    await settlementsDone();
    const lines = journaled();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ orgId: org.id, usage: { model: MODEL, input_tokens: data.usage!.prompt_tokens }, quote: { charged: named.toString() } });

    const meter = pricedMeter(proxy.ctx);
    const first = await reconcileSettlementDir(meter, proxy.deps.settlements.dir);
    expect(first).toMatchObject({ settled: 2, refused: [], failed: [] });
    const after = await balance();
    expect(parseCredits(after.reserved)).toBe(0n);
    const streamed = await priceUsage(proxy.ctx, org.id, lines[1].usage);
    expect(parseCredits(after.available)).toBe(before - named - streamed.amount);
    const again = await reconcileSettlementDir(meter, proxy.deps.settlements.dir);
    expect(again).toMatchObject({ settled: 2, failed: [] });
    expect((await balance()).available).toBe(after.available);

    const records = await database.db.usageRecord.findMany({ where: { orgId: org.id }, orderBy: { occurredAt: 'asc' } });
    expect(records.map((r) => r.cost)).toEqual([named, streamed.amount]);
    const priced = await priceUsage(proxy.ctx, org.id, lines[0].usage);
    expect(records[0]).toMatchObject({ cost: priced.amount, priceVersionId: priced.price_version_id, requestId: response.headers.get('x-request-id'), status: 'ok' });
  });
});
