import { beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../http/errors.ts';
import { calculateCharge, chargeAmount, type ModelPriceData, type OrgRates, type UsageTokens } from './calculate.ts';
import { loadCatalogRows, type CatalogRow } from './catalog-source.ts';
import { selectPrice } from './match.ts';

// The catalog as of a fixed day, so dated price changes in the data do not move the expectations.
let rows: CatalogRow[];
beforeAll(async () => {
  rows = await loadCatalogRows(new Date('2026-11-25T12:00:00Z'));
});

const DEFAULT: OrgRates = { microsPerUsd: 100_000_000n, markupBps: 0 };

function price(model: string): ModelPriceData {
  const row = selectPrice(rows, model);
  if (!row) throw new Error(`no catalog price for ${model}`);
  return { ...row, priceVersionId: 'v', maxOutputTokens: null };
}

/** The charge, the same whether asked with its breakdown (estimates, usage events) or alone (the proxy). */
function micros(model: string, usage: UsageTokens, rates: OrgRates = DEFAULT): bigint {
  const { amount } = calculateCharge(price(model), rates, usage);
  expect(chargeAmount(price(model), rates, usage)).toBe(amount);
  return amount;
}

// Expected values are computed by hand: at the default rate (100 credits per USD) a token priced USD p per
// million costs p × 100 micro-credits.
describe('calculateCharge over the catalog', () => {
  const cases: Array<[string, UsageTokens, bigint]> = [
    // 1000×2.5×100 + 500×10×100
    ['gpt-4o', { input_tokens: 1000, output_tokens: 500 }, 750_000n],
    // 600×2.5×100 + 400×1.25×100 (cache read) + 200×10×100
    ['gpt-4o', { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 200 }, 400_000n],
    // 1234×0.15×100 + 567×0.6×100
    ['gpt-4o-mini', { input_tokens: 1234, output_tokens: 567 }, 52_530n],
    // 2000×2×100 + 8000×0.5×100 + 1000×8×100
    ['gpt-4.1', { input_tokens: 10_000, cached_input_tokens: 8000, output_tokens: 1000 }, 1_600_000n],
    // 100000×0.1×100 + 10000×0.4×100
    ['gpt-4.1-nano', { input_tokens: 100_000, output_tokens: 10_000 }, 1_400_000n],
    // no reasoning price: all 5000 output tokens at 8 -> 2000×2×100 + 5000×8×100
    ['o3', { input_tokens: 2000, output_tokens: 5000, reasoning_tokens: 4000 }, 4_400_000n],
    // 2000×1.1×100 + 1000×0.275×100 + 2000×4.4×100
    ['o4-mini', { input_tokens: 3000, cached_input_tokens: 1000, output_tokens: 2000 }, 1_127_500n],
    // 500×1.25×100 + 500×0.125×100 + 3000×10×100
    ['gpt-5', { input_tokens: 1000, cached_input_tokens: 500, output_tokens: 3000, reasoning_tokens: 2500 }, 3_068_750n],
    // 10000×0.25×100 + 1000×2×100
    ['gpt-5-mini', { input_tokens: 10_000, output_tokens: 1000 }, 450_000n],
    // 5000×3×100 + 2000×0.3×100 (read) + 3000×3.75×100 (write) + 1000×15×100
    [
      'claude-sonnet-4-5',
      { input_tokens: 10_000, cached_input_tokens: 2000, cache_write_tokens: 3000, output_tokens: 1000 },
      4_185_000n,
    ],
    // long context (> 200k input): 250000×6×100 + 1000×22.5×100
    ['claude-sonnet-4-5', { input_tokens: 250_000, output_tokens: 1000 }, 152_250_000n],
    // exactly at the threshold is still the base price: 200000×3×100
    ['claude-sonnet-4-5', { input_tokens: 200_000, output_tokens: 0 }, 60_000_000n],
    // 1000×15×100 + 1000×75×100
    ['claude-opus-4-1', { input_tokens: 1000, output_tokens: 1000 }, 9_000_000n],
    // 1000×5×100 + 1000×25×100
    ['claude-opus-4-6', { input_tokens: 1000, output_tokens: 1000 }, 3_000_000n],
    // 1500×0.8×100 + 500×1×100 (write) + 300×4×100
    ['claude-3-5-haiku-latest', { input_tokens: 2000, cache_write_tokens: 500, output_tokens: 300 }, 290_000n],
    // 50000×1.25×100 + 50000×0.125×100 + 2000×10×100
    ['gemini-2.5-pro', { input_tokens: 100_000, cached_input_tokens: 50_000, output_tokens: 2000 }, 8_875_000n],
    // long context: 200000×2.5×100 + 100000×0.25×100 + 2000×15×100
    ['gemini-2.5-pro', { input_tokens: 300_000, cached_input_tokens: 100_000, output_tokens: 2000 }, 55_500_000n],
    // long context, no cache-read price (cached at the tier's input price): 130000×2.5×100 + 100×10×100
    ['gemini-1.5-pro', { input_tokens: 130_000, cached_input_tokens: 10_000, output_tokens: 100 }, 32_600_000n],
    // 1000×0.3×100 + 1000×2.5×100
    ['gemini-2.5-flash', { input_tokens: 1000, output_tokens: 1000 }, 280_000n],
    // 1×0.1×100 + 1×0.4×100
    ['gemini-2.0-flash', { input_tokens: 1, output_tokens: 1 }, 50n],
    // mistral-large-latest prices as mistral-large: 1000×2×100 + 1000×6×100
    ['mistral-large-latest', { input_tokens: 1000, output_tokens: 1000 }, 800_000n],
    // 800×3×100 + 200×0.75×100 + 100×15×100
    ['grok-4', { input_tokens: 1000, cached_input_tokens: 200, output_tokens: 100 }, 405_000n],
    // 4000×2.5×100 + 1000×10×100
    ['command-r-plus', { input_tokens: 4000, output_tokens: 1000 }, 2_000_000n],
    // per-request fee USD 12 per 1000 requests = 0.012×10^8, plus 100×1×100 + 100×1×100
    ['sonar', { input_tokens: 100, output_tokens: 100 }, 1_220_000n],
    // reasoning price: 1000×2×100 + 2000×8×100 + 3000×3×100
    ['sonar-deep-research', { input_tokens: 1000, output_tokens: 5000, reasoning_tokens: 3000 }, 2_700_000n],
    // 1000×0.59×100 + 1000×0.79×100
    ['llama-3.3-70b-versatile', { input_tokens: 1000, output_tokens: 1000 }, 138_000n],
    // 1000×0.5×100 + 1000×1.5×100
    ['gpt-3.5-turbo', { input_tokens: 1000, output_tokens: 1000 }, 200_000n],
    // 1000×3×100 + 1000×15×100
    ['claude-3-7-sonnet-latest', { input_tokens: 1000, output_tokens: 1000 }, 1_800_000n],
  ];

  it.each(cases)('%s %j costs %d micro-credits', (model, usage, expected) => {
    expect(micros(model, usage)).toBe(expected);
  });

  it('covers at least 20 distinct models', () => {
    expect(new Set(cases.map(([m]) => m)).size).toBeGreaterThanOrEqual(20);
  });
});

describe('calculateCharge rules', () => {
  const fake: ModelPriceData = {
    priceVersionId: 'v',
    provider: 'p',
    model: 'm',
    inputNano: 135_000_000n, // USD 0.135 per million
    outputNano: 550_000_000n,
    cacheReadNano: null,
    cacheWriteNano: null,
    reasoningNano: null,
    tiers: [],
    requestFeeNano: 0n,
    contextWindow: null,
    maxOutputTokens: null,
  };

  it('rounds the final charge up to a whole micro-credit', () => {
    // 1 × 0.135 × 100 = 13.5 micro-credits -> 14
    expect(calculateCharge(fake, DEFAULT, { input_tokens: 1, output_tokens: 0 }).amount).toBe(14n);
    // and a charge that is already whole stays: 2 × 13.5 = 27
    expect(calculateCharge(fake, DEFAULT, { input_tokens: 2, output_tokens: 0 }).amount).toBe(27n);
    expect(calculateCharge(fake, DEFAULT, { input_tokens: 0, output_tokens: 0 }).amount).toBe(0n);
  });

  it('applies markup and discount in basis points, and the org rate', () => {
    const usage = { input_tokens: 1000, output_tokens: 500 };
    expect(micros('gpt-4o', usage, { microsPerUsd: 100_000_000n, markupBps: 1500 })).toBe(862_500n);
    expect(micros('gpt-4o', usage, { microsPerUsd: 100_000_000n, markupBps: -1000 })).toBe(675_000n);
    // 1 credit = USD 1: USD 0.0075 = 7500 micro-credits
    expect(micros('gpt-4o', usage, { microsPerUsd: 1_000_000n, markupBps: 0 })).toBe(7_500n);
    // 13.5 × 1.0001 = 13.50135 -> 14
    expect(calculateCharge(fake, { microsPerUsd: 100_000_000n, markupBps: 1 }, { input_tokens: 1, output_tokens: 0 }).amount).toBe(14n);
  });

  it('applies a volume discount after the markup, rounding once', () => {
    const usage = { input_tokens: 1000, output_tokens: 500 };
    // 750,000 × 0.95
    expect(micros('gpt-4o', usage, { microsPerUsd: 100_000_000n, markupBps: 0, discountBps: 500 })).toBe(712_500n);
    // 750,000 × 1.2 × 0.9 = 810,000
    expect(micros('gpt-4o', usage, { microsPerUsd: 100_000_000n, markupBps: 2000, discountBps: 1000 })).toBe(810_000n);
    // 13.5 × 0.97 = 13.095 -> 14
    expect(calculateCharge(fake, { microsPerUsd: 100_000_000n, markupBps: 0, discountBps: 300 }, { input_tokens: 1, output_tokens: 0 }).amount).toBe(14n);
  });

  it('explains the charge: lines, tier, exact USD', () => {
    const { breakdown } = calculateCharge(price('gemini-2.5-pro'), DEFAULT, {
      input_tokens: 300_000,
      cached_input_tokens: 100_000,
      output_tokens: 2000,
    });
    expect(breakdown.tier_start).toBe(200_000);
    expect(breakdown.usd).toBe('0.555');
    expect(breakdown.lines).toEqual([
      { kind: 'input', tokens: 200_000, usd_per_mtok: '2.5' },
      { kind: 'cached_input', tokens: 100_000, usd_per_mtok: '0.25' },
      { kind: 'output', tokens: 2000, usd_per_mtok: '15' },
    ]);
  });

  it('refuses token kinds that do not add up', () => {
    const bad = [
      { input_tokens: 10, cached_input_tokens: 11, output_tokens: 0 },
      { input_tokens: 10, cached_input_tokens: 6, cache_write_tokens: 5, output_tokens: 0 },
      { input_tokens: 10, output_tokens: 1, reasoning_tokens: 2 },
    ];
    for (const usage of bad) {
      try {
        calculateCharge(fake, DEFAULT, usage);
        expect.unreachable();
      } catch (err) {
        expect(isAppError(err) && err.code).toBe('validation_failed');
      }
    }
  });
});
