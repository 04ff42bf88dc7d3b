import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { isAppError } from '../http/errors.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { browseCatalog, getOrgPricing } from './browse.ts';
import { forgetPricingCache, type PricingContext } from './catalog.ts';
import { createOrgPriceVersion, orgVersionInForce } from './org-prices.ts';
import { removeModelOverride, saveModelOverride } from './org-overrides.ts';
import { priceUsage } from './price-usage.ts';
import { formatUsd } from './usd.ts';

let db: Db;
let ctx: PricingContext;
let orgId: string;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  ctx = { db };
  orgId = (await db.org.create({ data: { slug: 'overrides', name: 'Overrides' } })).id;
});

afterAll(async () => {
  await db.$disconnect();
});

describe('org overrides one at a time', () => {
  it('adds, replaces and removes a model price, each as a new version', async () => {
    expect((await getOrgPricing(ctx, orgId)).creditsPerUsd).toBe('100');
    await saveModelOverride(ctx, orgId, { model: 'house-', match: { starts_with: 'house-' }, input: '1', output: '2' }, null);
    await saveModelOverride(ctx, orgId, { model: 'gpt-4o', provider: 'openai', input: '5', output: '20', cached_input: '1' }, null);
    await saveModelOverride(ctx, orgId, { model: 'GPT-4o', provider: 'openai', input: '4', output: '16' }, null);
    let view = await getOrgPricing(ctx, orgId);
    expect(view.overrides.map((o) => [o.model, o.input, o.output])).toEqual([
      ['house-', '1', '2'],
      ['GPT-4o', '4', '16'],
    ]);
    expect(view.history).toHaveLength(3);
    // 1000×4 + 500×16 = USD 0.012 at 100 credits per USD
    expect((await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 })).amount).toBe(1_200_000n);
    expect((await priceUsage(ctx, orgId, { model: 'house-small', input_tokens: 1_000_000, output_tokens: 0 })).amount).toBe(100_000_000n);

    await removeModelOverride(ctx, orgId, 'gpt-4o', null);
    view = await getOrgPricing(ctx, orgId);
    expect(view.overrides.map((o) => o.model)).toEqual(['house-']);
    expect(view.history[0].note).toBe('Price of gpt-4o removed');
    expect((await priceUsage(ctx, orgId, { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 })).amount).toBe(750_000n);
    try {
      await removeModelOverride(ctx, orgId, 'gpt-4o', null);
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err) && err.code).toBe('not_found');
    }
  });

  it('builds a change on the version in force, and carries it into the versions scheduled later', async () => {
    const org = (await db.org.create({ data: { slug: 'scheduled', name: 'Scheduled' } })).id;
    await createOrgPriceVersion(ctx, org, { credits_per_usd: '100', models: [{ model: 'house-a', input: '1', output: '2' }] }, null);
    const tomorrow = new Date(Date.now() + 86_400_000);
    await createOrgPriceVersion(ctx, org, { credits_per_usd: '200', models: [], effective_at: tomorrow.toISOString(), note: 'New rate' }, null);
    // Edited now: the rate and house-a stay as they are today. The scheduled version, which drops house-a
    // and sets its own rate, gets house-b too, and still starts tomorrow.
    await saveModelOverride(ctx, org, { model: 'house-b', input: '3', output: '4' }, null);
    const view = await getOrgPricing(ctx, org);
    expect(view.creditsPerUsd).toBe('100');
    expect(view.overrides.map((o) => o.model)).toEqual(['house-a', 'house-b']);
    // The page says when the scheduled version takes over, and which one was replaced.
    expect(view.nextScheduledAt?.getTime()).toBe(new Date(tomorrow.toISOString()).getTime());
    expect(view.history.filter((v) => v.scheduled).map((v) => [v.note, v.replaced])).toEqual([
      ['New rate, with Price of house-b set', false],
      ['New rate', true],
    ]);
    const later = new Date(tomorrow.getTime() + 1000);
    const usage = { model: 'house-a', input_tokens: 1_000_000, output_tokens: 0 };
    expect((await priceUsage(ctx, org, usage)).amount).toBe(100_000_000n);
    await expect(priceUsage(ctx, org, usage, later)).rejects.toMatchObject({ code: 'unknown_model' });
    // USD 3 per million input tokens at the scheduled 200 credits per USD
    expect((await priceUsage(ctx, org, { ...usage, model: 'house-b' }, later)).amount).toBe(600_000_000n);
  });

  it('merges a change into each scheduled version: what a version sets itself stays, the rest follows the change', async () => {
    const org = (await db.org.create({ data: { slug: 'merged', name: 'Merged' } })).id;
    const price = (model: string, input: string, output: string) => ({ model, input, output });
    const day = (n: number) => new Date(Date.now() + n * 86_400_000);
    await createOrgPriceVersion(ctx, org, { credits_per_usd: '100', markup_bps: 0, models: [price('a', '1', '2'), price('b', '3', '4')] }, null);
    // Tomorrow: a markup and a new price of b. The day after: a new rate (the rest as tomorrow).
    await createOrgPriceVersion(ctx, org, { markup_bps: 1000, models: [price('a', '1', '2'), price('b', '5', '6')], effective_at: day(1).toISOString(), note: 'Markup' }, null);
    await createOrgPriceVersion(ctx, org, { credits_per_usd: '300', effective_at: day(2).toISOString(), note: 'Rate' }, null);

    // Now: another rate and markup, a new price of a, and a new model c.
    await createOrgPriceVersion(ctx, org, { credits_per_usd: '150', markup_bps: 500, models: [price('a', '10', '20'), price('b', '3', '4'), price('c', '7', '8')], note: 'Spring prices' }, null);
    const inForce = async (at: Date) => {
      const v = (await orgVersionInForce(ctx, org, at))!;
      return { rate: v.microsPerUsd, markup: v.markupBps, models: v.prices.map((p) => `${p.model} ${formatUsd(p.inputNano)} ${formatUsd(p.outputNano)}`), note: v.note };
    };
    expect(await inForce(new Date())).toEqual({ rate: 150_000_000n, markup: 500, models: ['a 10 20', 'b 3 4', 'c 7 8'], note: 'Spring prices' });
    // Tomorrow's markup and price of b are its own; the new rate, price of a and model c are carried.
    expect(await inForce(day(1.5))).toEqual({ rate: 150_000_000n, markup: 1000, models: ['a 10 20', 'b 5 6', 'c 7 8'], note: 'Markup, with Spring prices' });
    // The day after keeps its own rate and takes the rest as tomorrow's now is.
    expect(await inForce(day(3))).toEqual({ rate: 300_000_000n, markup: 1000, models: ['a 10 20', 'b 5 6', 'c 7 8'], note: 'Rate, with Spring prices' });

    // Removing a model now removes it later too, where it was as now; a change of what both scheduled versions
    // set themselves (the price of b) writes no new version of them.
    const versions = async () => (await getOrgPricing(ctx, org)).history.length;
    const before = await versions();
    await removeModelOverride(ctx, org, 'c', null);
    expect((await inForce(day(3))).models).toEqual(['a 10 20', 'b 5 6']);
    expect(await versions()).toBe(before + 3);
    await saveModelOverride(ctx, org, price('b', '3.5', '4'), null);
    expect(await versions()).toBe(before + 4);
    expect((await inForce(new Date())).models).toEqual(['a 10 20', 'b 3.5 4']);
    expect((await inForce(day(1.5))).models).toEqual(['a 10 20', 'b 5 6']);
  });

  it('prices a custom embedding model by its input alone, and refuses a chat model without an output price', async () => {
    const org = (await db.org.create({ data: { slug: 'embeddings', name: 'Embeddings' } })).id;
    await saveModelOverride(ctx, org, { model: 'house-embed', input: '0.5', input_only: true }, null);
    // A later change keeps it input-only (the version before is carried over as it was).
    await saveModelOverride(ctx, org, { model: 'house-chat', input: '1', output: '3' }, null);
    const view = await getOrgPricing(ctx, org);
    expect(view.overrides.map((o) => [o.model, o.input, o.output])).toEqual([
      ['house-embed', '0.5', '0'],
      ['house-chat', '1', '3'],
    ]);
    // 2,000 tokens at USD 0.5 per million = USD 0.001 = 0.1 credits at 100 credits per USD
    expect((await priceUsage(ctx, org, { model: 'house-embed', input_tokens: 2000, output_tokens: 0 })).amount).toBe(100_000n);

    const refusal = async (override: Parameters<typeof saveModelOverride>[2]) => {
      try {
        await saveModelOverride(ctx, org, override, null);
        return null;
      } catch (err) {
        return isAppError(err) ? [err.code, err.details] : err;
      }
    };
    const refusedAt = (path: string) => ['validation_failed', { issues: [expect.objectContaining({ path })] }];
    expect(await refusal({ model: 'house-chat-2', input: '1' })).toMatchObject(refusedAt('models.2.output'));
    expect(await refusal({ model: 'house-embed-2', input: '1', output: '2', input_only: true })).toMatchObject(refusedAt('models.2.output'));
    expect(await refusal({ model: 'house-embed-3', input: '0', input_only: true })).toMatchObject(refusedAt('models.2.input'));
    expect((await getOrgPricing(ctx, org)).history).toHaveLength(2);
  });

  it('gives the volume discount of the tier the month has reached', async () => {
    const org = (await db.org.create({ data: { slug: 'volume', name: 'Volume' } })).id;
    await createOrgPriceVersion(ctx, org, { discount_tiers: [{ from_credits: '0.5', discount_bps: 1000 }, { from_credits: '2', discount_bps: 2000 }] }, null);
    expect((await getOrgPricing(ctx, org)).discountTiers).toEqual([{ fromCredits: '0.5', bps: 1000 }, { fromCredits: '2', bps: 2000 }]);
    const usage = { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 };
    expect((await priceUsage(ctx, org, usage)).amount).toBe(750_000n);
    const now = new Date();
    await db.usageRecord.create({ data: { orgId: org, cost: 1_000_000n, occurredAt: now } });
    forgetPricingCache(org);
    expect(await priceUsage(ctx, org, usage)).toMatchObject({ amount: 675_000n, breakdown: { discount_bps: 1000 } });
    await db.usageRecord.create({ data: { orgId: org, cost: 1_000_000n, occurredAt: now } });
    forgetPricingCache(org);
    expect((await priceUsage(ctx, org, usage)).amount).toBe(600_000n);
    // Last month's charges do not count for this month.
    const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 2));
    expect((await priceUsage(ctx, org, usage, nextMonth)).amount).toBe(750_000n);
    for (const bad of [[{ from_credits: '2', discount_bps: 100 }, { from_credits: '1', discount_bps: 200 }], [{ from_credits: '1', discount_bps: 10_000 }]]) {
      await expect(createOrgPriceVersion(ctx, org, { discount_tiers: bad }, null)).rejects.toMatchObject({ code: 'validation_failed' });
    }
  });

  it('browses the catalog by search, a page at a time', async () => {
    const page = await browseCatalog(ctx, orgId, { search: 'claude-opus', pageSize: 5 });
    expect(page.rows.length).toBeGreaterThan(0);
    expect(page.rows.length).toBeLessThanOrEqual(5);
    expect(page.total).toBeGreaterThanOrEqual(page.rows.length);
    for (const r of page.rows) expect(`${r.provider} ${r.model}`.toLowerCase()).toContain('claude-opus');
    const gemini = await browseCatalog(ctx, orgId, { search: 'gemini-2.5-pro' });
    expect(gemini.rows.find((r) => r.model === 'gemini-2.5-pro')?.tiers).toEqual([{ start: 200_000, input: '2.5', output: '15' }]);
  });
});
