/**
 * The rate-limit admission and the hold are asked for at once; when one refuses, the other is undone: a
 * refused admission releases its hold without a usage record, a refused hold ends its admission (its slot
 * frees at once, and it counts no tokens).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from '../ledger/credits.ts';
import { checkLedger } from '../ledger/queries.ts';
import { ensureGlobalCatalog } from '../pricing/index.ts';
import { createTestMember, createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { settlementsDone } from './handle.ts';
import { pricedMeter } from './priced-meter.ts';
import { forgetProxySettings, saveProxySettings } from './settings.ts';
import { startTestProxy, type TestProxy } from './testing/proxy-harness.ts';
import { unlimited as noLimits } from './testing/rate-limit-cases.ts';

let database: TestDatabase;
let proxy: TestProxy;
let org: TestOrg;
const system = { type: 'system' } as const;
const MODEL = 'gpt-4o-mini';
const messages = [{ role: 'user' as const, content: 'Hello there' }];
const unlimited = { ...noLimits, degradation: 'fail_closed' as const, failOpenUserCap: '0' };

beforeAll(async () => {
  database = await useTestDatabase();
  await ensureGlobalCatalog(database.db);
  proxy = await startTestProxy(database.db, database.url, { meter: pricedMeter });
  org = await createTestOrg(database.db, 'admission');
  for (const user of ['ada', 'bob']) await createTestMember(database.db, org.id, user);
  await grantCredits(proxy.ctx, org.id, { user: 'ada', amount: 100_000_000n, reason: 'Seed' }, system);
});

afterAll(async () => {
  await settlementsDone();
  expect(await checkLedger(proxy.ctx, org.id)).toEqual([]);
  await proxy.close();
  await database.db.$disconnect();
});

const client = (user: string) => new OpenAI({ apiKey: org.keys.meter, baseURL: proxy.baseUrl, maxRetries: 0, defaultHeaders: { 'x-credits-user': user } });

describe('admission and hold at once', () => {
  it('releases the hold of a request a rate limit refused, leaving no usage record', async () => {
    await saveProxySettings(database.db, org.id, { ...unlimited, userRequestsPerMinute: 1 }, system);
    forgetProxySettings();
    await client('ada').chat.completions.create({ model: MODEL, messages, max_tokens: 3 });
    const err = await client('ada').chat.completions.create({ model: MODEL, messages, max_tokens: 3 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429 });
    await settlementsDone();
    const holds = await database.db.reservation.findMany({ where: { orgId: org.id }, select: { id: true, status: true } });
    expect(holds.map((h) => h.status).sort()).toEqual(['committed', 'released']);
    const released = holds.find((h) => h.status === 'released')!;
    expect(await database.db.usageRecord.count({ where: { orgId: org.id, reservationId: released.id } })).toBe(0);
    expect(await database.db.usageRecord.count({ where: { orgId: org.id } })).toBe(1);
  });

  it('ends the admission of a request refused for credits, so its slot frees at once', async () => {
    await saveProxySettings(database.db, org.id, { ...unlimited, userConcurrentRequests: 1 }, system);
    forgetProxySettings();
    for (let i = 0; i < 3; i++) {
      const err = await client('bob').chat.completions.create({ model: MODEL, messages, max_tokens: 3 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 402, code: 'insufficient_quota' });
    }
    await grantCredits(proxy.ctx, org.id, { user: 'bob', amount: 100_000_000n, reason: 'Seed' }, system);
    const done = await client('bob').chat.completions.create({ model: MODEL, messages, max_tokens: 3 });
    expect(done.choices).toHaveLength(1);
    await settlementsDone();
    const slots = await database.db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM proxy_concurrency_slots WHERE bucket LIKE $1`, `user:${org.id}:bob:%`);
    expect(Number(slots[0].n)).toBe(0);
  });
});
