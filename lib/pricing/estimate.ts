/**
 * estimateCost: what a request will probably cost before it is made, for sizing a hold. Input tokens are
 * given or counted (tokens.ts); output tokens are the least of the request's max_output_tokens, the model's
 * own maximum output (when known) and the org's cap for estimates. Nothing is held.
 */
import { z } from 'zod';
import { calculateCharge, chargeAmount, type ChargeBreakdown, type ModelPriceData, type OrgRates } from './calculate.ts';
import { findModelPrice, pricingAsOf, type PricingContext } from './catalog.ts';
import { modelNameSchema } from './price-usage.ts';
import { chatMessageSchema, countInputTokens, knownMaxOutputTokens } from './tokens.ts';
import { normalizeModel } from './match.ts';

const MAX_TEXT = 4_000_000;

/** What a request will send: exactly one of messages, input_tokens, prompt or input. */
export const estimateRequestSchema = z
  .object({
    messages: z.array(chatMessageSchema).min(1).max(10_000).optional(),
    input_tokens: z.number().int().min(0).max(100_000_000).optional(),
    prompt: z.string().max(MAX_TEXT).optional(),
    input: z.union([z.string().max(MAX_TEXT), z.array(chatMessageSchema).min(1).max(10_000)]).optional(),
    max_output_tokens: z.number().int().min(1).max(10_000_000).optional(),
  })
  .refine(
    (r) => [r.messages, r.input_tokens, r.prompt, r.input].filter((v) => v !== undefined).length === 1,
    'give exactly one of messages, input_tokens, prompt or input',
  );

export const estimateInputSchema = z
  .object({ model: modelNameSchema, provider: z.string().trim().min(1).max(100).optional() })
  .and(estimateRequestSchema);

export type EstimateRequest = z.infer<typeof estimateRequestSchema>;
export type EstimateInput = z.infer<typeof estimateInputSchema>;

export type Estimate = {
  model: string;
  provider: string;
  input_tokens: number;
  output_tokens: number;
  /** How input tokens were counted: "given", or the encoding used. */
  counted_with: string;
  margin_bps: number;
  amount: bigint;
  price_version_id: string;
  org_price_version_id: string | null;
  breakdown: ChargeBreakdown;
};

/** The price an estimate uses and the tokens it counts. */
async function estimateTokens(ctx: PricingContext, orgId: string, input: EstimateInput, at: Date) {
  const pricing = await pricingAsOf(ctx, orgId, at);
  const price = await findModelPrice(ctx, orgId, input.model, { at, provider: input.provider, pricing });
  const name = normalizeModel(input.model);
  const counted =
    input.input_tokens !== undefined
      ? { tokens: input.input_tokens, encoding: 'given', margin_bps: 0 }
      : await countInputTokens(name, input, pricing.estimateMarginBps);
  const limits = [input.max_output_tokens, price.maxOutputTokens ?? knownMaxOutputTokens(name), pricing.estimateOutputCap];
  const outputTokens = Math.min(...limits.filter((n): n is number => typeof n === 'number'));
  return { pricing, price, counted, outputTokens };
}

/** The price and rates a request is priced by, and the org's price version among them. */
export type PriceTerms = { price: ModelPriceData; rates: OrgRates; orgPriceVersionId: string | null };

/**
 * The amount of estimateCost alone, without its breakdown, and the terms it priced by: what a hold needs (the
 * proxy quotes the request's charge by the same terms).
 */
export async function estimateAmount(
  ctx: PricingContext,
  orgId: string,
  input: EstimateInput,
  at: Date = ctx.now?.() ?? new Date(),
): Promise<{ amount: bigint; terms: PriceTerms }> {
  const { pricing, price, counted, outputTokens } = await estimateTokens(ctx, orgId, input, at);
  return {
    amount: chargeAmount(price, pricing.rates, { input_tokens: counted.tokens, output_tokens: outputTokens }),
    terms: { price, rates: pricing.rates, orgPriceVersionId: pricing.org?.id ?? null },
  };
}

export async function estimateCost(
  ctx: PricingContext,
  orgId: string,
  input: EstimateInput,
  at: Date = ctx.now?.() ?? new Date(),
): Promise<Estimate> {
  const { pricing, price, counted, outputTokens } = await estimateTokens(ctx, orgId, input, at);
  const { amount, breakdown } = calculateCharge(price, pricing.rates, {
    input_tokens: counted.tokens,
    output_tokens: outputTokens,
  });
  return {
    model: price.model,
    provider: price.provider,
    input_tokens: counted.tokens,
    output_tokens: outputTokens,
    counted_with: counted.encoding,
    margin_bps: counted.margin_bps,
    amount,
    price_version_id: price.priceVersionId,
    org_price_version_id: pricing.org?.id ?? null,
    breakdown,
  };
}
