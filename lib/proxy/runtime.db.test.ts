import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLedgerContext } from '../ledger/context.ts';
import { grantCredits } from '../ledger/credits.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { proxyRoute, settlementsDone } from './handle.ts';
import { getProxyDeps } from './runtime.ts';
import { startFakeUpstream, type FakeUpstream } from './testing/fake-upstream.ts';
import { fixedRateMeter } from './testing/fixed-rate-meter.ts';
import { testRates } from './testing/proxy-harness.ts';
import { serveRoutes, type Served } from './testing/serve.ts';

let database: TestDatabase;
let fake: FakeUpstream;
let served: Served;
let org: TestOrg;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'credits-runtime-'));

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: 'sk-default' });
  process.env.DATA_DIR = dataDir;
  process.env.LLM_UPSTREAM_BASE_URL = fake.baseUrl;
  process.env.LLM_UPSTREAM_API_KEY = 'sk-default';
  database = await useTestDatabase();
  org = await createTestOrg(database.db, 'runtime');
  await createTestMember(database.db, org.id, 'ada');
  await grantCredits(getLedgerContext(), org.id, { user: 'ada', amount: 1_000_000n, reason: 'Seed' }, { type: 'system' });
  const meter = fixedRateMeter(getLedgerContext(), testRates);
  served = await serveRoutes({ '/v1/chat/completions': proxyRoute('chat.completions', () => getProxyDeps(meter)) });
});

afterAll(async () => {
  await settlementsDone();
  await served.close();
  await fake.close();
  await database.db.$disconnect();
});

describe('getProxyDeps', () => {
  it('wires the proxy from configuration: the default upstream with its key, and a keyring kept in the data folder', async () => {
    const client = new OpenAI({ apiKey: org.keys.meter, baseURL: `${served.url}/v1`, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], user: 'ada', max_tokens: 1 }).withResponse();
    expect(response.headers.get('x-credits-charged')).toBe('0.00004');
    expect(fake.requests.at(-1)?.authorization).toBe('Bearer sk-default');
    expect(fake.requests.at(-1)?.body.user).toBe('ada');
    expect(existsSync(path.join(dataDir, 'master-key'))).toBe(true);
  });
});
