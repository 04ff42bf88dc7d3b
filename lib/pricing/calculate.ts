/**
 * The cost of one request, exactly. Token prices are integers of nano-USD per million tokens, so
 *
 *   cost (USD)     = N / 10^15, where N = Σ tokens × price (nano-USD per million) + request fee (nano-USD) × 10^6
 *   cost (credits) = cost (USD) × org rate (micro-credits per USD) × (10,000 + markup bps) / 10,000
 *                                 × (10,000 − volume discount bps) / 10,000
 *
 * computed in bigint and rounded UP to a whole micro-credit once, at the end: a request never costs less than
 * its price, and by less than one micro-credit more.
 *
 * Token kinds follow OpenAI's convention: cached (cache-read) and cache-write tokens are part of input_tokens,
 * reasoning tokens part of output_tokens. Input − cached − cache-write is charged at the input price, cached
 * at the cache-read price and cache-write at the cache-write price (each the input price when the model has
 * none). Reasoning tokens are charged at the output price unless the model has a reasoning price. A
 * long-context tier applies to the whole request when its input tokens exceed the tier's start.
 */
import { z } from 'zod';
import { AppError } from '../http/errors.ts';
import type { PriceTier } from './catalog-source.ts';
import { formatUsd } from './usd.ts';

const tokens = z.number().int().min(0).max(1_000_000_000_000);

export const usageTokensSchema = z.object({
  input_tokens: tokens,
  output_tokens: tokens,
  cached_input_tokens: tokens.optional(),
  cache_write_tokens: tokens.optional(),
  reasoning_tokens: tokens.optional(),
});

export type UsageTokens = z.infer<typeof usageTokensSchema>;

export type ModelPriceData = {
  priceVersionId: string;
  provider: string;
  model: string;
  inputNano: bigint;
  outputNano: bigint;
  cacheReadNano: bigint | null;
  cacheWriteNano: bigint | null;
  reasoningNano: bigint | null;
  tiers: PriceTier[];
  requestFeeNano: bigint;
  contextWindow: number | null;
  maxOutputTokens: number | null;
};

/** The org's rate (micro-credits per USD), markup (negative: discount) and volume discount, in basis points. */
export type OrgRates = { microsPerUsd: bigint; markupBps: number; discountBps?: number };

export type ChargeLine = { kind: 'input' | 'cached_input' | 'cache_write' | 'output' | 'reasoning'; tokens: number; usd_per_mtok: string };

export type ChargeBreakdown = {
  lines: ChargeLine[];
  tier_start: number | null;
  request_fee_usd: string;
  usd: string;
  micros_per_usd: string;
  markup_bps: number;
  discount_bps: number;
};

const SCALE = 10n ** 15n; // N is in 10^-15 USD

function tierFor(price: ModelPriceData, inputTokens: number): PriceTier | null {
  let chosen: PriceTier | null = null;
  for (const tier of price.tiers) if (inputTokens > tier.start) chosen = tier;
  return chosen;
}

/** Checks that the token kinds add up (cached within input, reasoning within output). */
export function checkUsageTokens(usage: UsageTokens): void {
  const cached = usage.cached_input_tokens ?? 0;
  const write = usage.cache_write_tokens ?? 0;
  if (cached + write > usage.input_tokens) {
    throw new AppError('validation_failed', 'cached_input_tokens + cache_write_tokens may not exceed input_tokens', {
      field: 'cached_input_tokens',
    });
  }
  if ((usage.reasoning_tokens ?? 0) > usage.output_tokens) {
    throw new AppError('validation_failed', 'reasoning_tokens may not exceed output_tokens', { field: 'reasoning_tokens' });
  }
}

/** 10^-15 USD as a decimal string of USD. */
function femtoUsd(n: bigint): string {
  const whole = n / SCALE;
  const fraction = (n % SCALE).toString().padStart(15, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

/** The token counts of a request by price, and the prices (nano-USD per million tokens) that apply to them. */
function priceLines(price: ModelPriceData, usage: UsageTokens) {
  checkUsageTokens(usage);
  const tier = tierFor(price, usage.input_tokens);
  const input = tier ? BigInt(tier.input) : price.inputNano;
  const output = tier ? BigInt(tier.output) : price.outputNano;
  const cacheRead = (tier?.cache_read ? BigInt(tier.cache_read) : null) ?? price.cacheReadNano ?? input;
  const cacheWrite = (tier?.cache_write ? BigInt(tier.cache_write) : null) ?? price.cacheWriteNano ?? input;
  const cached = usage.cached_input_tokens ?? 0;
  const write = usage.cache_write_tokens ?? 0;
  const reasoning = price.reasoningNano ? (usage.reasoning_tokens ?? 0) : 0;
  const lines: Array<{ kind: ChargeLine['kind']; tokens: number; nano: bigint }> = [
    { kind: 'input', tokens: usage.input_tokens - cached - write, nano: input },
    { kind: 'cached_input', tokens: cached, nano: cacheRead },
    { kind: 'cache_write', tokens: write, nano: cacheWrite },
    { kind: 'output', tokens: usage.output_tokens - reasoning, nano: output },
    { kind: 'reasoning', tokens: reasoning, nano: price.reasoningNano ?? output },
  ];
  let n = price.requestFeeNano * 1_000_000n;
  for (const line of lines) if (line.tokens > 0) n += BigInt(line.tokens) * line.nano;
  return { tier, lines, n };
}

function creditsOf(n: bigint, rates: OrgRates): bigint {
  const numerator = n * rates.microsPerUsd * BigInt(10_000 + rates.markupBps) * BigInt(10_000 - (rates.discountBps ?? 0));
  const denominator = SCALE * 100_000_000n;
  return (numerator + denominator - 1n) / denominator;
}

/** What the usage costs in micro-credits, as calculateCharge, without its breakdown (the proxy's hot path). */
export function chargeAmount(price: ModelPriceData, rates: OrgRates, usage: UsageTokens): bigint {
  return creditsOf(priceLines(price, usage).n, rates);
}

export function calculateCharge(
  price: ModelPriceData,
  rates: OrgRates,
  usage: UsageTokens,
): { amount: bigint; breakdown: ChargeBreakdown } {
  const { tier, lines, n } = priceLines(price, usage);
  return {
    amount: creditsOf(n, rates),
    breakdown: {
      lines: lines.filter((l) => l.tokens > 0).map(({ kind, tokens, nano }) => ({ kind, tokens, usd_per_mtok: formatUsd(nano) })),
      tier_start: tier?.start ?? null,
      request_fee_usd: formatUsd(price.requestFeeNano),
      usd: femtoUsd(n),
      micros_per_usd: rates.microsPerUsd.toString(),
      markup_bps: rates.markupBps,
      discount_bps: rates.discountBps ?? 0,
    },
  };
}
