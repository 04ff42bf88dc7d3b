import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/lib/db/client.ts';
import { callJson, createTestOrg, type TestOrg } from '@/lib/test/api-fixture.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { CATALOG_KEY } from '@/lib/pricing/catalog-source.ts';
import { POST as estimate } from './estimate/route.ts';
import { GET as models } from './models/route.ts';
import { GET as getPricing, POST as postPricing } from './pricing/route.ts';

let db: Db;
let org: TestOrg;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'pricing-admin');
});

afterAll(async () => {
  await db.$disconnect();
});

const gpt4o = { model: 'gpt-4o', input_tokens: 1000, max_output_tokens: 500 };

describe('GET /api/v1/models', () => {
  it('searches the catalog a page at a time', async () => {
    const res = await callJson(models, '/api/v1/models?search=gpt-4o-mini&limit=5', { key: org.keys.meter });
    expect(res.status).toBe(200);
    expect(res.body.catalog).toBe(CATALOG_KEY);
    expect(res.body.data.length).toBeLessThanOrEqual(5);
    expect(res.body.total).toBeGreaterThanOrEqual(res.body.data.length);
    for (const m of res.body.data) expect(`${m.provider} ${m.model}`).toContain('gpt-4o-mini');
    expect(res.body.data.find((m: { model: string }) => m.model === 'gpt-4o-mini')).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', input: '0.15', output: '0.6', cached_input: '0.075' });
    expect((await callJson(models, '/api/v1/models?limit=0', { key: org.keys.read })).status).toBe(422);
  });
});

describe('/api/v1/pricing', () => {
  it('shows the defaults until the org writes a version', async () => {
    const res = await callJson(getPricing, '/api/v1/pricing', { key: org.keys.read });
    expect(res.body).toMatchObject({ version_id: null, credits_per_usd: '100', markup_bps: 0, estimate_margin_bps: 2000, models: [], history: [] });
  });

  it('writes versions (admin only), idempotently, and prices with them at once', async () => {
    const body = { credits_per_usd: '1', models: [{ model: 'gpt-4o', provider: 'openai', input: '5', output: '20' }], note: 'contract' };
    expect((await callJson(postPricing, '/api/v1/pricing', { key: org.keys.meter, body })).status).toBe(403);
    // Warm the cache with the old prices: the new version must still apply at once.
    expect((await callJson(estimate, '/api/v1/estimate', { key: org.keys.meter, body: gpt4o })).body.amount).toBe('0.75');
    const created = await callJson(postPricing, '/api/v1/pricing', { key: org.keys.admin, body, idempotencyKey: 'v1' });
    expect(created.status).toBe(201);
    const again = await callJson(postPricing, '/api/v1/pricing', { key: org.keys.admin, body, idempotencyKey: 'v1' });
    expect(again.body).toEqual(created.body);
    expect(await db.priceVersion.count({ where: { orgId: org.id } })).toBe(1);
    // 1000×5 + 500×20 = USD 0.015 at 1 credit per USD
    expect((await callJson(estimate, '/api/v1/estimate', { key: org.keys.meter, body: gpt4o })).body.amount).toBe('0.015');
    const shown = await callJson(getPricing, '/api/v1/pricing', { key: org.keys.read });
    expect(shown.body).toMatchObject({ version_id: created.body.id, credits_per_usd: '1', models: [{ model: 'gpt-4o', input: '5', output: '20' }] });
    expect(shown.body.history).toHaveLength(1);
  });

  it('carries a change into the version scheduled later, and lists which versions are scheduled or replaced', async () => {
    const own = await createTestOrg(db, 'pricing-scheduled');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const post = (body: object) => callJson(postPricing, '/api/v1/pricing', { key: own.keys.admin, body });
    expect((await post({ credits_per_usd: '2', effective_at: tomorrow, note: 'Rate' })).status).toBe(201);
    expect((await post({ markup_bps: 1000, note: 'Markup' })).status).toBe(201);
    const shown = await callJson(getPricing, '/api/v1/pricing', { key: own.keys.read });
    expect(shown.body).toMatchObject({ credits_per_usd: '100', markup_bps: 1000 });
    const history = shown.body.history as Array<{ note: string; scheduled: boolean; replaced: boolean; effective_at: string }>;
    expect(history.map((h) => [h.note, h.scheduled, h.replaced]).sort()).toEqual([
      ['Markup', false, false],
      ['Rate, with Markup', true, false],
      ['Rate', true, true],
    ]);
    expect(history.find((h) => h.note === 'Rate, with Markup')?.effective_at).toBe(tomorrow);
  });

  it('refuses zero and negative prices and regex rules', async () => {
    for (const body of [
      { models: [{ model: 'x', input: '0', output: '1' }] },
      { models: [{ model: 'x', input: '-1', output: '1' }] },
      { models: [{ model: 'x', match: { regex: '^(a+)+$' }, input: '1', output: '1' }] },
      { default_price: { input: '0', output: '1' } },
      { discount_tiers: [{ from_credits: '1', discount_bps: 0 }] },
    ]) {
      const res = await callJson(postPricing, '/api/v1/pricing', { key: org.keys.admin, body });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect(await db.priceVersion.count({ where: { orgId: org.id } })).toBe(1);
  });
});
