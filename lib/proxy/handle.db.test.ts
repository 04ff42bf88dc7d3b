import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from '../ledger/credits.ts';
import { checkLedger, getBalance } from '../ledger/queries.ts';
import { parseCredits } from '../money/credits.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { settlementsDone } from './handle.ts';
import { saveProxySettings } from './settings.ts';
import { priceAtFixedRates } from './testing/fixed-rate-meter.ts';
import { startTestProxy, testRates, type TestProxy } from './testing/proxy-harness.ts';

let database: TestDatabase;
let proxy: TestProxy;
let org: TestOrg;
const system = { type: 'system' } as const;

beforeAll(async () => {
  database = await useTestDatabase();
  proxy = await startTestProxy(database.db, database.url);
  org = await createTestOrg(database.db, 'proxy');
  for (const user of ['ada', 'bob', 'poor', 'cyd']) await createTestMember(database.db, org.id, user);
  for (const user of ['ada', 'bob', 'cyd']) await grantCredits(proxy.ctx, org.id, { user, amount: 10_000_000n, reason: 'Seed' }, system);
  await grantCredits(proxy.ctx, org.id, { user: 'poor', amount: 100n, reason: 'Seed' }, system);
});

afterAll(async () => {
  await settlementsDone();
  expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
  await proxy.close();
  await database.db.$disconnect();
});

const client = (user?: string, key = org.keys.meter) =>
  new OpenAI({ apiKey: key, baseURL: proxy.baseUrl, maxRetries: 0, defaultHeaders: user ? { 'x-credits-user': user } : {} });
// JSON answers are settled just after they leave: read the ledger once every settlement is committed.
const available = async (user: string) => (await settlementsDone(), parseCredits((await getBalance(proxy.ctx, org.id, user)).available));
const activeHolds = async () => (await settlementsDone(), database.db.reservation.count({ where: { orgId: org.id, status: 'active' } }));
const messages = [{ role: 'user' as const, content: 'abcdefgh' }];

describe('the proxy through the OpenAI SDK', () => {
  it('charges a completion exactly its usage and says so in the headers', async () => {
    const before = await available('ada');
    const { data, response } = await client('ada').chat.completions.create({ model: 'gpt-test', messages, max_tokens: 5 }).withResponse();
    expect(data.choices[0].message.content).toBe('tok '.repeat(5));
    const charged = priceAtFixedRates(testRates, { input_tokens: 2, output_tokens: 5 });
    expect(response.headers.get('x-credits-charged')).toBe('0.00017');
    expect(charged).toBe(170n);
    expect(await available('ada')).toBe(before - charged);
    expect(parseCredits(response.headers.get('x-credits-remaining')!)).toBe(before - charged);
    expect(await activeHolds()).toBe(0);
  });

  it('streams, charges the usage the upstream reported, and keeps the usage chunk from a client that did not ask', async () => {
    const before = await available('bob');
    const stream = await client('bob').chat.completions.create({ model: 'gpt-test', messages, stream: true, max_tokens: 100 });
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe('tok '.repeat(12));
    expect(sawUsage).toBe(false);
    await settlementsDone();
    expect(await available('bob')).toBe(before - priceAtFixedRates(testRates, { input_tokens: 2, output_tokens: 12 }));
    expect(await activeHolds()).toBe(0);
  });

  it('passes the usage chunk to a client that asked, and shows the hold in the headers of a stream', async () => {
    const { data: stream, response } = await client('bob')
      .chat.completions.create({ model: 'gpt-test', messages, stream: true, max_tokens: 100, stream_options: { include_usage: true } })
      .withResponse();
    const hold = priceAtFixedRates(testRates, { input_tokens: 4 + 3, output_tokens: 100 });
    expect(parseCredits(response.headers.get('x-credits-charged')!)).toBe(hold);
    expect(response.headers.get('x-credits-reservation')).toMatch(/^[0-9a-f-]{36}$/);
    const usages = [];
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    expect(usages).toEqual([expect.objectContaining({ prompt_tokens: 2, completion_tokens: 12 })]);
    await settlementsDone();
    expect(await activeHolds()).toBe(0);
  });

  it('meters completions and embeddings, and lists models', async () => {
    const before = await available('cyd');
    await client('cyd').completions.create({ model: 'gpt-test', prompt: 'abcd', max_tokens: 2 });
    const embedded = await client('cyd').embeddings.create({ model: 'text-embedding-test', input: ['abcd', 'abcdefgh'] });
    expect(embedded.data).toHaveLength(2);
    expect(await available('cyd')).toBe(before - priceAtFixedRates(testRates, { input_tokens: 1, output_tokens: 2 }) - priceAtFixedRates(testRates, { input_tokens: 3, output_tokens: 0 }));
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-test', 'gpt-test-mini', 'text-embedding-test']);
  });

  it('surfaces insufficient credits as the SDK error with insufficient_quota', async () => {
    const err = await client('poor').chat.completions.create({ model: 'gpt-test', messages, max_tokens: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 402, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(await available('poor')).toBe(100n);
  });

  it('refuses a request without an end user, a bad key and an unknown user', async () => {
    const noUser = await client().chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(noUser).toBeInstanceOf(OpenAI.BadRequestError);
    expect(noUser).toMatchObject({ status: 400, param: 'user', type: 'invalid_request_error' });
    const badKey = await client('ada', 'cr_nope').chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    const readKey = await client('ada', org.keys.read).chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(readKey).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const stranger = await client('nobody').chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(stranger).toMatchObject({ status: 404 });
  });

  it('releases the hold when the upstream fails, before or during a stream', async () => {
    const before = await available('ada');
    proxy.fake.fail({ kind: 'status', status: 500 }, 1);
    const failed = await client('ada').chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error' });
    proxy.fake.fail({ kind: 'drop', afterChunks: 3 }, 1);
    const stream = await client('ada').chat.completions.create({ model: 'gpt-test', messages, stream: true });
    await expect((async () => { for await (const _ of stream); })()).rejects.toThrow();
    await settlementsDone();
    expect(await available('ada')).toBe(before);
    expect(await activeHolds()).toBe(0);
  });

  it('charges a client that disconnects mid-stream the prompt and the output streamed so far', async () => {
    const before = await available('ada');
    proxy.fake.setLatency(0, 30);
    try {
      const stream = await client('ada').chat.completions.create({ model: 'gpt-test', messages, stream: true, max_tokens: 100 });
      let pieces = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) pieces += 1;
        if (pieces === 3) break; // leaving the loop aborts the request
      }
      await new Promise((r) => setTimeout(r, 100));
      await settlementsDone();
    } finally {
      proxy.fake.setLatency(0, 0);
    }
    expect(await activeHolds()).toBe(0);
    const charged = before - (await available('ada'));
    // Prompt estimate (4 + 3 tokens) plus at least the 3 pieces of 4 characters, at most what was generated.
    expect(charged).toBeGreaterThanOrEqual(priceAtFixedRates(testRates, { input_tokens: 7, output_tokens: 4 }));
    expect(charged).toBeLessThanOrEqual(priceAtFixedRates(testRates, { input_tokens: 7, output_tokens: 16 }));
  });

  it('answers 429 with Retry-After once the key limit is reached', async () => {
    await saveProxySettings(
      database.db,
      org.id,
      { keyRequestsPerMinute: 2, keyTokensPerMinute: null, keyConcurrentRequests: null, userRequestsPerMinute: null, userTokensPerMinute: null, userConcurrentRequests: null, degradation: 'fail_closed', failOpenUserCap: '0' },
      system,
    );
    const limited = await createTestOrg(database.db, 'limited');
    await createTestMember(database.db, limited.id, 'ada');
    await grantCredits(proxy.ctx, limited.id, { user: 'ada', amount: 10_000_000n, reason: 'Seed' }, system);
    await saveProxySettings(database.db, limited.id, { keyRequestsPerMinute: 2, keyTokensPerMinute: null, keyConcurrentRequests: null, userRequestsPerMinute: null, userTokensPerMinute: null, userConcurrentRequests: null, degradation: 'fail_closed', failOpenUserCap: '0' }, system);
    const c = client('ada', limited.keys.meter);
    await c.chat.completions.create({ model: 'gpt-test', messages });
    await c.chat.completions.create({ model: 'gpt-test', messages });
    const err = await c.chat.completions.create({ model: 'gpt-test', messages }).withResponse().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
    expect(Number((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await database.db.reservation.count({ where: { orgId: limited.id, status: 'active' } })).toBe(0);
  });
});

describe('degradation when the credit database is unreachable', () => {
  const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  let outage: TestProxy;
  let open: TestOrg;
  let closed: TestOrg;

  beforeAll(async () => {
    outage = await startTestProxy(database.db, database.url, {
      // The database is down for the rate limits and the ledger alike.
      override: (deps) => ({
        limiter: Object.assign(Object.create(Object.getPrototypeOf(deps.limiter)), deps.limiter, { admit: () => Promise.reject(down) }),
        // The meter prices every model offline but one, as if it had never priced that one before the outage.
        meter: { ...deps.meter, hold: () => Promise.reject(down), priceOffline: (orgId, usage) => (usage.model === 'gpt-never-priced' ? null : deps.meter.priceOffline!(orgId, usage)) },
      }),
    });
    open = await createTestOrg(database.db, 'fails-open');
    closed = await createTestOrg(database.db, 'fails-closed');
    const base = { keyRequestsPerMinute: null, keyTokensPerMinute: null, keyConcurrentRequests: null, userRequestsPerMinute: null, userTokensPerMinute: null, userConcurrentRequests: null };
    await saveProxySettings(database.db, open.id, { ...base, degradation: 'fail_open', failOpenUserCap: '0.0004' }, system);
    await saveProxySettings(database.db, closed.id, { ...base, degradation: 'fail_closed', failOpenUserCap: '0' }, system);
  });
  afterAll(() => outage.close());

  const outageClient = (key: string) => new OpenAI({ apiKey: key, baseURL: outage.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': 'ada' } });

  it('fails closed with 503 by default', async () => {
    const err = await outageClient(closed.keys.meter).chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, type: 'server_error', code: 'service_unavailable' });
  });

  it('fails open up to the per-user cap, journaling every unmetered request', async () => {
    const c = outageClient(open.keys.meter);
    const { response } = await c.chat.completions.create({ model: 'gpt-test', messages, max_tokens: 5 }).withResponse();
    expect(response.headers.get('x-credits-unmetered')).toBe('true');
    await c.chat.completions.create({ model: 'gpt-test', messages, max_tokens: 5 }); // 170 + 170 micro-credits of the 400 cap
    const err = await c.chat.completions.create({ model: 'gpt-test', messages, max_tokens: 5 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503 }); // it might cost 170 more: over the cap
    const lines = readFileSync(outage.journalFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ orgId: open.id, user: 'ada', endpoint: 'chat.completions', price: '170', usage: { model: 'gpt-test', input_tokens: 2, output_tokens: 5 } });
    expect(await database.db.reservation.count({ where: { orgId: open.id } })).toBe(0);
  });

  it('never lets requests at once pass the cap together, and refuses a model it cannot price without the database', async () => {
    const c = new OpenAI({ apiKey: open.keys.meter, baseURL: outage.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': 'cyd' } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => c.chat.completions.create({ model: 'gpt-test', messages, max_tokens: 5 }).then(() => 'ok', (e: { status?: number }) => e.status)));
    expect(answers.filter((a) => a === 'ok')).toHaveLength(2);
    expect(answers.filter((a) => a === 503)).toHaveLength(4);
    const never = await outageClient(open.keys.meter).chat.completions.create({ model: 'gpt-never-priced', messages }).catch((e: unknown) => e);
    expect(never).toMatchObject({ status: 503 });
    expect((never as Error).message).toContain('cannot be priced');
  });
});

describe('an upstream whose circuit breaker is open', () => {
  let flaky: TestProxy;
  beforeAll(async () => {
    flaky = await startTestProxy(database.db, database.url, { breaker: { consecutiveFailures: 2, errorRate: { threshold: 0.9, size: 100, minimumCalls: 100 }, halfOpenAfterMs: 300 } });
  });
  afterAll(() => flaky.close());

  it('answers 503 in OpenAI shape without calling the upstream, then recovers after the cool-down', async () => {
    const c = new OpenAI({ apiKey: org.keys.meter, baseURL: flaky.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': 'bob' } });
    const before = await available('bob');
    flaky.fake.fail({ kind: 'status', status: 503 });
    for (let i = 0; i < 2; i++) expect(await c.chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e)).toMatchObject({ status: 502 });
    const calls = flaky.fake.requests.length;
    const open = await c.chat.completions.create({ model: 'gpt-test', messages }).withResponse().catch((e: unknown) => e);
    expect(open).toBeInstanceOf(OpenAI.InternalServerError);
    expect(open).toMatchObject({ status: 503, type: 'server_error', code: 'service_unavailable' });
    expect(flaky.fake.requests.length).toBe(calls);
    flaky.fake.recover();
    await new Promise((r) => setTimeout(r, 350));
    expect((await c.chat.completions.create({ model: 'gpt-test', messages, max_tokens: 1 })).choices).toHaveLength(1);
    expect(flaky.deps.breakers.state('default')).toBe('closed');
    expect(await available('bob')).toBe(before - priceAtFixedRates(testRates, { input_tokens: 2, output_tokens: 1 }));
    expect(await activeHolds()).toBe(0);
  });
});
