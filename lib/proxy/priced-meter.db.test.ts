/**
 * The production meter behind the proxy, through the OpenAI SDK: holds at the pricing estimate, charges the
 * catalog price of the usage the upstream reported, and writes one usage record per request with its key,
 * request id, tokens, cost and price version.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from '../ledger/credits.ts';
import { updateOrgPolicy } from '../ledger/policies.ts';
import { checkLedger, getBalance } from '../ledger/queries.ts';
import { parseCredits } from '../money/credits.ts';
import { ensureGlobalCatalog, priceUsage } from '../pricing/index.ts';
import { estimateCost } from '../pricing/estimate.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { settlementsDone } from './handle.ts';
import { pricedMeter } from './priced-meter.ts';
import { startTestProxy, type TestProxy } from './testing/proxy-harness.ts';

let database: TestDatabase;
let proxy: TestProxy;
let org: TestOrg;
const MODEL = 'gpt-4o-mini';
const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

beforeAll(async () => {
  database = await useTestDatabase();
  await ensureGlobalCatalog(database.db);
  proxy = await startTestProxy(database.db, database.url, { meter: pricedMeter });
  org = await createTestOrg(database.db, 'priced-proxy');
  for (const user of ['ada', 'bob']) {
    await createTestMember(database.db, org.id, user);
    await grantCredits(proxy.ctx, org.id, { user, amount: 100_000_000n, reason: 'Seed' }, { type: 'system' });
  }
});

afterAll(async () => {
  await settlementsDone();
  expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
  await proxy.close();
  await database.db.$disconnect();
});

const client = (user: string) =>
  new OpenAI({ apiKey: org.keys.meter, baseURL: proxy.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': user } });
// JSON answers are settled just after they leave: read the ledger once every settlement is committed.
const available = async (user: string) => (await settlementsDone(), parseCredits((await getBalance(proxy.ctx, org.id, user)).available));

describe('the priced proxy meter', () => {
  it('charges the catalog price of the reported usage and records the request', async () => {
    const before = await available('ada');
    const { data, response } = await client('ada').chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse();
    const usage = { model: MODEL, input_tokens: data.usage!.prompt_tokens, output_tokens: data.usage!.completion_tokens };
    const priced = await priceUsage(proxy.ctx, org.id, usage);
    expect(priced.amount).toBeGreaterThan(0n);
    // Named in the answer before it is committed, priced in-process: the same charge the ledger prices.
    expect(parseCredits(response.headers.get('x-credits-charged')!)).toBe(priced.amount);
    expect(await available('ada')).toBe(before - priced.amount);
    expect(parseCredits(response.headers.get('x-credits-remaining')!)).toBe(before - priced.amount);

    const records = await database.db.usageRecord.findMany({ where: { orgId: org.id, model: MODEL } });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      cost: priced.amount,
      inputTokens: BigInt(usage.input_tokens),
      outputTokens: BigInt(usage.output_tokens),
      priceVersionId: priced.price_version_id,
      requestId: response.headers.get('x-request-id'),
      status: 'ok',
    });
    expect(records[0].apiKeyId).not.toBeNull();
  });

  it('holds a stream at the estimate, then settles it on the usage the upstream reported', async () => {
    const before = await available('bob');
    const { data: stream, response } = await client('bob')
      .chat.completions.create({ model: MODEL, messages, max_tokens: 50, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const estimate = await estimateCost(proxy.ctx, org.id, { model: MODEL, messages, max_output_tokens: 50 });
    expect(parseCredits(response.headers.get('x-credits-charged')!)).toBe(estimate.amount);
    let reported: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) reported = chunk.usage;
    await settlementsDone();
    const priced = await priceUsage(proxy.ctx, org.id, {
      model: MODEL,
      input_tokens: reported!.prompt_tokens,
      output_tokens: reported!.completion_tokens,
    });
    expect(await available('bob')).toBe(before - priced.amount);
    expect(await database.db.reservation.count({ where: { orgId: org.id, status: 'active' } })).toBe(0);
  });

  it('refuses a model the org has no price for, holding nothing', async () => {
    const before = await available('ada');
    const err = await client('ada').chat.completions.create({ model: 'no-such-model-xyz', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 422 });
    expect(await available('ada')).toBe(before);
  });

  it('prices embeddings by their input tokens alone, as the catalog does', async () => {
    const before = await available('bob');
    const { data, response } = await client('bob').embeddings.create({ model: 'text-embedding-3-small', input: 'The capital of France' }).withResponse();
    const priced = await priceUsage(proxy.ctx, org.id, { model: 'text-embedding-3-small', input_tokens: data.usage.prompt_tokens, output_tokens: 0 });
    // USD 0.02 per million input tokens, 100 credits per USD: 2 micro-credits a token.
    expect(priced.amount).toBe(2n * BigInt(data.usage.prompt_tokens));
    expect(parseCredits(response.headers.get('x-credits-charged')!)).toBe(priced.amount);
    expect(await available('bob')).toBe(before - priced.amount);
  });

  it('charges the pool for a member without credits when the org allows it, and tells the member what they still have', async () => {
    await createTestMember(database.db, org.id, 'cy');
    await grantCredits(proxy.ctx, org.id, { amount: 100_000_000n, reason: 'Pool' }, { type: 'system' });
    await updateOrgPolicy(proxy.ctx, org.id, { pool_fallback: true }, { type: 'system' });
    const pool = async () => (await settlementsDone(), parseCredits((await getBalance(proxy.ctx, org.id)).available));
    const poolBefore = await pool();
    const { data, response } = await client('cy').chat.completions.create({ model: MODEL, messages, max_tokens: 7 }).withResponse();
    const priced = await priceUsage(proxy.ctx, org.id, { model: MODEL, input_tokens: data.usage!.prompt_tokens, output_tokens: data.usage!.completion_tokens });
    expect(parseCredits(response.headers.get('x-credits-charged')!)).toBe(priced.amount);
    expect(parseCredits(response.headers.get('x-credits-remaining')!)).toBe(0n);
    expect(await available('cy')).toBe(0n);
    expect(await pool()).toBe(poolBefore - priced.amount);
  });

  it('prices offline with the price and rates of its last hold of the model, and not a model it never priced', async () => {
    const meter = proxy.deps.meter;
    const usage = { model: MODEL, input_tokens: 1000, output_tokens: 500 };
    expect(meter.priceOffline!(org.id, usage)).toBe((await priceUsage(proxy.ctx, org.id, usage)).amount);
    expect(meter.priceOffline!(org.id, { ...usage, model: 'never-held-model' })).toBeNull();
  });
});
