/** Prices at the API: USD per million tokens as decimal strings, credits as decimal strings, snake_case. */
import type { OrgPricingView, PriceView } from './browse.ts';

export type ModelPriceDto = {
  provider: string;
  model: string;
  match: unknown;
  input: string;
  output: string;
  cached_input: string | null;
  cache_write: string | null;
  reasoning: string | null;
  request_fee: string | null;
  tiers: Array<{ start: number; input: string; output: string }>;
  max_output_tokens: number | null;
};

export function modelPriceDto(p: PriceView): ModelPriceDto {
  return {
    provider: p.provider,
    model: p.model,
    match: p.match,
    input: p.input,
    output: p.output,
    cached_input: p.cachedInput,
    cache_write: p.cacheWrite,
    reasoning: p.reasoning,
    request_fee: p.requestFee,
    tiers: p.tiers,
    max_output_tokens: p.maxOutputTokens,
  };
}

export function orgPricingDto(v: OrgPricingView) {
  return {
    version_id: v.versionId,
    effective_at: v.effectiveAt?.toISOString() ?? null,
    credits_per_usd: v.creditsPerUsd,
    markup_bps: v.markupBps,
    estimate_margin_bps: v.estimateMarginBps,
    estimate_output_cap: v.estimateOutputCap,
    default_price: v.defaultPrice,
    discount_tiers: v.discountTiers.map((t) => ({ from_credits: t.fromCredits, discount_bps: t.bps })),
    models: v.overrides.map(modelPriceDto),
    history: v.history.map((h) => ({
      id: h.id,
      effective_at: h.effectiveAt.toISOString(),
      created_at: h.createdAt.toISOString(),
      note: h.note,
      models: h.models,
      scheduled: h.scheduled,
      replaced: h.replaced,
    })),
  };
}
