import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { isAppError } from '../http/errors.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { CATALOG_KEY } from './catalog-source.ts';
import { ensureGlobalCatalog, type PricingContext } from './catalog.ts';
import { createOrgPriceVersion } from './org-prices.ts';
import { priceUsage } from './price-usage.ts';

let db: Db;
let ctx: PricingContext;
let orgId: string;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  ctx = { db };
  orgId = (await db.org.create({ data: { slug: 'pricing', name: 'Pricing' } })).id;
});

afterAll(async () => {
  await db.$disconnect();
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
}

describe('the global catalog', () => {
  it('is seeded on first use, once per release, effective for all time', async () => {
    const priced = await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 });
    expect(priced).toMatchObject({ amount: 750_000n, provider: 'openai', model: 'gpt-4o', org_price_version_id: null });
    await ensureGlobalCatalog(db);
    await Promise.all([ensureGlobalCatalog(db), ensureGlobalCatalog(db)]);
    const versions = await db.priceVersion.findMany({ where: { orgId: null } });
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ catalogKey: CATALOG_KEY, effectiveAt: new Date(0) });
    expect(priced.price_version_id).toBe(versions[0].id);
    expect(await db.modelPrice.count({ where: { priceVersionId: versions[0].id } })).toBeGreaterThan(1000);
  });

  it('refuses unknown models with unknown_model', async () => {
    expect(await codeOf(priceUsage(ctx, orgId, { model: 'no-such-model-xyz', input_tokens: 1, output_tokens: 1 }))).toBe(
      'unknown_model',
    );
  });
});

describe('org versions', () => {
  it('refuse zero and negative prices and a past effective time', async () => {
    const count = await db.priceVersion.count({ where: { orgId } });
    const bad = [
      { models: [{ model: 'mine', input: '0', output: '1' }] },
      { models: [{ model: 'mine', input: '-1', output: '1' }] },
      { default_price: { input: '1', output: '0' } },
      { credits_per_usd: '0' },
      { effective_at: '2020-01-01T00:00:00Z' },
    ];
    for (const input of bad) expect(await codeOf(createOrgPriceVersion(ctx, orgId, input, null))).toBe('validation_failed');
    expect(await db.priceVersion.count({ where: { orgId } })).toBe(count);
  });

  it('price with overrides, custom models, the org rate and a default price; history stays', async () => {
    const before = new Date();
    const catalogPrice = await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 });
    const v1 = await createOrgPriceVersion(
      ctx,
      orgId,
      {
        credits_per_usd: '1',
        models: [
          { model: 'gpt-4o', provider: 'openai', input: '5', output: '20' },
          { model: 'house-llm', match: { starts_with: 'house-' }, input: '1', output: '2' },
        ],
      },
      null,
    );
    // 1 credit = USD 1: 1000×5 + 500×20 = USD 0.015 = 15,000 micro-credits
    const overridden = await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 });
    expect(overridden).toMatchObject({ amount: 15_000n, price_version_id: v1.id, org_price_version_id: v1.id });
    // Catalog models at the org's rate: 10,000 × USD 0.15 per million = USD 0.0015 = 1,500 micro-credits
    expect((await priceUsage(ctx, orgId, { model: 'gpt-4o-mini', input_tokens: 10_000, output_tokens: 0 })).amount).toBe(1_500n);
    expect((await priceUsage(ctx, orgId, { model: 'house-llm-7b', input_tokens: 1_000_000, output_tokens: 0 })).amount).toBe(
      1_000_000n,
    );
    // As of before the change, the catalog price at the default rate.
    expect(await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 }, new Date(before.getTime() - 1))).toEqual(
      catalogPrice,
    );

    const v2 = await createOrgPriceVersion(ctx, orgId, { default_price: { input: '1', output: '1' }, markup_bps: 1000 }, null);
    // models and rate carried over; 10% markup: 15,000 × 1.1
    expect(await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 })).toMatchObject({
      amount: 16_500n,
      org_price_version_id: v2.id,
    });
    // Unknown models at the default price: 2 USD per million × 1.1 -> 2.2 credits for a million tokens each way
    expect(await priceUsage(ctx, orgId, { model: 'no-such-model-xyz', input_tokens: 1_000_000, output_tokens: 1_000_000 })).toMatchObject({
      amount: 2_200_000n,
      provider: 'default',
      price_version_id: v2.id,
    });
    expect(await db.priceVersion.count({ where: { orgId } })).toBe(2);
  });

  it('take effect at their effective time', async () => {
    const now = new Date();
    const later = new Date(now.getTime() + 3_600_000);
    const v3 = await createOrgPriceVersion(ctx, orgId, { markup_bps: 0, effective_at: later.toISOString() }, null);
    const usage = { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 };
    expect((await priceUsage(ctx, orgId, usage, now)).amount).toBe(16_500n);
    expect(await priceUsage(ctx, orgId, usage, new Date(later.getTime() + 1))).toMatchObject({
      amount: 15_000n,
      org_price_version_id: v3.id,
    });
  });
});
