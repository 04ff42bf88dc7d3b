/**
 * An org's own prices: credits per USD, markup or discount, estimate settings, a default price for models no
 * list knows, and overrides or custom models matched by rule. Every change writes a new version holding the
 * whole list (what the change leaves out is carried over from the latest version), effective now or at a
 * later time; versions are never edited, so what was charged can always be explained.
 */
import { z } from 'zod';
import type { Prisma } from '../generated/prisma/client.ts';
import { AppError, validationError } from '../http/errors.ts';
import { nonNegativeCreditsSchema, positiveCreditsSchema } from '../money/credits.ts';
import { forgetPricingCache, type PricingContext } from './catalog.ts';
import { orgMatchRuleSchema, type MatchRule } from './match.ts';
import { modelNameSchema } from './price-usage.ts';
import { parseUsd, positiveUsdSchema } from './usd.ts';

const feeSchema = z.string().transform((value, ctx) => {
  const nano = parseUsd(value);
  if (nano === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a decimal string of USD with at most 9 fractional digits' });
    return z.NEVER;
  }
  return nano;
});

export const modelOverrideSchema = z
  .object({
    provider: z.string().trim().min(1).max(100).default('custom'),
    model: modelNameSchema,
    /** Which model names this price applies to; the exact name when absent. */
    match: orgMatchRuleSchema.optional(),
    input: positiveUsdSchema,
    /** Required unless `input_only`. */
    output: positiveUsdSchema.optional(),
    /** A model priced by its input alone (embeddings, rerankers): it has no output price. */
    input_only: z.boolean().optional(),
    cached_input: positiveUsdSchema.optional(),
    cache_write: positiveUsdSchema.optional(),
    reasoning: positiveUsdSchema.optional(),
    /** USD per request, on top of the tokens. */
    request_fee: feeSchema.optional(),
    max_output_tokens: z.number().int().min(1).max(10_000_000).optional(),
    context_window: z.number().int().min(1).max(100_000_000).optional(),
  })
  .superRefine((m, ctx) => {
    if (!m.input_only && m.output === undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'Required (or input_only: true for a model priced by its input alone)' });
    if (m.input_only && m.output !== undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'An input-only model has no output price' });
    if (m.input_only && m.reasoning !== undefined) ctx.addIssue({ code: 'custom', path: ['reasoning'], message: 'An input-only model has no reasoning price' });
  });

export const orgPricingInputSchema = z.object({
  /** Credits one USD of list price buys: "100" means 1 credit = USD 0.01. */
  credits_per_usd: positiveCreditsSchema.optional(),
  /** Markup over list prices in basis points; negative for a discount (-1000 = 10% off). */
  markup_bps: z.number().int().min(-9999).max(100_000).optional(),
  estimate_margin_bps: z.number().int().min(0).max(100_000).optional(),
  estimate_output_cap: z.number().int().min(1).max(10_000_000).optional(),
  /** The price of models no list knows (null: refuse them with unknown_model). */
  default_price: z.object({ input: positiveUsdSchema, output: positiveUsdSchema }).nullable().optional(),
  /** The whole list of overrides and custom models of the new version. */
  models: z.array(modelOverrideSchema).max(500).optional(),
  /**
   * Volume discounts, replacing the current ones: from `from_credits` charged in the calendar month (UTC),
   * `discount_bps` off every later request of that month. Empty: none.
   */
  discount_tiers: z
    .array(z.object({ from_credits: nonNegativeCreditsSchema, discount_bps: z.number().int().min(1).max(9999) }))
    .max(20)
    .refine((tiers) => tiers.every((t, i) => i === 0 || t.from_credits > tiers[i - 1].from_credits), 'tiers must rise')
    .optional(),
  effective_at: z.iso.datetime({ offset: true }).optional(),
  note: z.string().trim().max(500).optional(),
});

export type OrgPricingInput = z.input<typeof orgPricingInputSchema>;
export type ParsedOrgPricing = z.output<typeof orgPricingInputSchema>;

/** Writes a new version of the org's prices from an unparsed input (422 validation_failed when it does not fit). */
export async function createOrgPriceVersion(
  ctx: PricingContext,
  orgId: string,
  rawInput: OrgPricingInput,
  createdById: string | null,
): Promise<{ id: string; effectiveAt: Date }> {
  const parsed = orgPricingInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw validationError('Pricing is invalid', parsed.error);
  }
  return writeOrgPriceVersion(ctx, orgId, parsed.data, createdById);
}

/** The org's own price version in force at `at`, with its model prices; null when it has none yet. */
export function orgVersionInForce(ctx: PricingContext, orgId: string, at: Date) {
  return ctx.db.priceVersion.findFirst({
    where: { orgId, effectiveAt: { lte: at } },
    orderBy: [{ effectiveAt: 'desc' }, { createdAt: 'desc' }],
    include: { prices: { orderBy: { position: 'asc' } } },
  });
}

/** Writes a new version of the org's prices from a parsed input; returns its id and effective time. */
export async function writeOrgPriceVersion(
  ctx: PricingContext,
  orgId: string,
  input: ParsedOrgPricing,
  createdById: string | null,
): Promise<{ id: string; effectiveAt: Date }> {
  const now = ctx.now?.() ?? new Date();
  const effectiveAt = input.effective_at ? new Date(input.effective_at) : now;
  if (effectiveAt.getTime() < now.getTime() - 60_000) {
    throw new AppError('validation_failed', 'effective_at may not be in the past', { field: 'effective_at' });
  }
  // What the input leaves out is kept from the version in force when this one starts (not from the last one
  // written: that may be scheduled for later).
  const previous = await orgVersionInForce(ctx, orgId, effectiveAt);
  const models =
    input.models?.map((m, position) => ({
      provider: m.provider,
      model: m.model,
      match: (m.match ?? ({ equals: m.model } satisfies MatchRule)) as Prisma.InputJsonValue,
      priority: 0,
      position,
      inputNano: m.input,
      // An input-only model's output is priced at zero, as the catalog's embedding models are.
      outputNano: m.input_only ? 0n : m.output!,
      cacheReadNano: m.cached_input ?? null,
      cacheWriteNano: m.cache_write ?? null,
      reasoningNano: m.reasoning ?? null,
      tiers: [] as Prisma.InputJsonValue,
      requestFeeNano: m.request_fee ?? 0n,
      maxOutputTokens: m.max_output_tokens ?? null,
      contextWindow: m.context_window ?? null,
    })) ??
    previous?.prices.map(({ id: _id, priceVersionId: _v, match, tiers, ...rest }) => ({
      ...rest,
      match: match as Prisma.InputJsonValue,
      tiers: tiers as Prisma.InputJsonValue,
    })) ??
    [];
  const defaultPrice =
    input.default_price === undefined
      ? { input: previous?.defaultInputNano ?? null, output: previous?.defaultOutputNano ?? null }
      : { input: input.default_price?.input ?? null, output: input.default_price?.output ?? null };

  const version = await ctx.db.priceVersion.create({
    data: {
      orgId,
      effectiveAt,
      createdById,
      note: input.note ?? null,
      microsPerUsd: input.credits_per_usd ?? previous?.microsPerUsd ?? null,
      markupBps: input.markup_bps ?? previous?.markupBps ?? null,
      estimateMarginBps: input.estimate_margin_bps ?? previous?.estimateMarginBps ?? null,
      estimateOutputCap: input.estimate_output_cap ?? previous?.estimateOutputCap ?? null,
      defaultInputNano: defaultPrice.input,
      defaultOutputNano: defaultPrice.output,
      discountTiers: (input.discount_tiers?.map((t) => ({ from: t.from_credits.toString(), bps: t.discount_bps })) ??
        previous?.discountTiers ??
        []) as Prisma.InputJsonValue,
      prices: { create: models },
    },
    select: { id: true, effectiveAt: true },
  });
  forgetPricingCache(orgId);
  return version;
}
