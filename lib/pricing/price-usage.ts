/**
 * priceUsage: what one request's tokens cost the org, in micro-credits, with the price version it was priced
 * by and the breakdown (the receipt's pricing half; the ledger entries are the other).
 */
import { z } from 'zod';
import { calculateCharge, usageTokensSchema, type ChargeBreakdown } from './calculate.ts';
import { findModelPrice, pricingAsOf, type PricingContext } from './catalog.ts';

export const modelNameSchema = z.string().trim().min(1).max(200);

export const modelUsageSchema = usageTokensSchema.extend({
  model: modelNameSchema,
  provider: z.string().trim().min(1).max(100).optional(),
});

export type ModelUsage = z.infer<typeof modelUsageSchema>;

export type PricedUsage = {
  amount: bigint;
  /** The version the model's prices came from (the org's own or the global catalog). */
  price_version_id: string;
  /** The org's settings version in force (rate, markup), if the org has any. */
  org_price_version_id: string | null;
  provider: string;
  model: string;
  breakdown: ChargeBreakdown;
};

export async function priceUsage(
  ctx: PricingContext,
  orgId: string,
  usage: ModelUsage,
  at: Date = ctx.now?.() ?? new Date(),
): Promise<PricedUsage> {
  const pricing = await pricingAsOf(ctx, orgId, at);
  const price = await findModelPrice(ctx, orgId, usage.model, { at, provider: usage.provider, pricing });
  const { amount, breakdown } = calculateCharge(price, pricing.rates, usage);
  return {
    amount,
    price_version_id: price.priceVersionId,
    org_price_version_id: pricing.org?.id ?? null,
    provider: price.provider,
    model: price.model,
    breakdown,
  };
}
