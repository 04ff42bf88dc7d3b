/**
 * The inputs of metering: reserve, commit and usage events, each with an amount or, instead, a model — a hold
 * sized by an estimate of the request, a commit or a usage event priced from its model and token counts. Each
 * comes down to an amount (the ledger knows only amounts) plus the facts its usage record keeps
 * (lib/usage/carrier.ts). Amount inputs pass through untouched.
 */
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { AppError, validationError } from '../http/errors.ts';
import { nonNegativeCreditsSchema, positiveCreditsSchema } from '../money/credits.ts';
import { estimateAmount, estimateRequestSchema, type PriceTerms } from '../pricing/estimate.ts';
import { modelNameSchema, modelUsageSchema, priceUsage, type ModelUsage } from '../pricing/price-usage.ts';
import { usageTokensSchema } from '../pricing/calculate.ts';
import { callerMetadataSchema, callFactsFields, requestInfoSchema, type RequestInfo, type UsageFacts } from '../usage/carrier.ts';
import type { LedgerContext } from './context.ts';

const providerSchema = z.string().trim().min(1).max(100).optional();

/** The reserve fields that replace `amount`: a model and what the request will send. */
export const reserveModelFields = { model: modelNameSchema.optional(), provider: providerSchema, estimate: estimateRequestSchema.optional() };

/** The usage event fields that replace `amount`: a model and its token counts. */
export const eventModelFields = {
  model: modelNameSchema.optional(),
  provider: providerSchema,
  ...usageTokensSchema.partial().shape,
};

type Issue = { message: string; path: string[] };

/** Exactly one of `amount` or the model fields; with a model, the fields `required` too. */
export function oneOfAmountOrModel(value: Record<string, unknown>, required: string[]): Issue | null {
  const hasAmount = value.amount !== undefined;
  const hasModel = value.model !== undefined;
  if (hasAmount === hasModel) return { message: 'give exactly one of amount or model', path: ['amount'] };
  if (hasModel) for (const field of required) if (value[field] === undefined) return { message: `required with model`, path: [field] };
  return null;
}

function exactlyOne(required: string[]) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const issue = oneOfAmountOrModel(value, required);
    if (issue) ctx.addIssue({ code: 'custom', ...issue });
  };
}

/** A hold of `amount`, or of the estimate of a request to `model` (exactly one of the two). */
export const reserveInputSchema = z
  .object({
    user: z.string().trim().min(1).max(200),
    amount: positiveCreditsSchema.optional(),
    ...reserveModelFields,
    ttl_seconds: z.number().int().min(1).max(86_400).optional(),
    metadata: callerMetadataSchema,
  })
  .superRefine(exactlyOne(['estimate']));

/** The real cost as `amount`, or the request's `usage` (model and tokens) to price (exactly one of the two). */
export const commitInputSchema = z
  .object({
    amount: nonNegativeCreditsSchema.optional(),
    usage: modelUsageSchema.optional(),
    ...callFactsFields,
    metadata: callerMetadataSchema,
  })
  .superRefine((value, ctx) => {
    if ((value.amount === undefined) === (value.usage === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of amount or usage', path: ['amount'] });
    }
  });

/** An event costing `amount`, or the usage of `model` priced as of its timestamp (exactly one of the two). */
export const usageEventSchema = z
  .object({
    id: z.string().trim().min(1).max(200),
    user: z.string().trim().min(1).max(200),
    amount: nonNegativeCreditsSchema.optional(),
    ...eventModelFields,
    timestamp: z.iso.datetime({ offset: true }).optional(),
    ...callFactsFields,
    metadata: callerMetadataSchema,
  })
  .superRefine(exactlyOne(['input_tokens', 'output_tokens']));

/** A release may tell what became of the call; its usage record says `cancelled` unless the status says otherwise. */
export const releaseInputSchema = z.object({ ...callFactsFields });

export type ReserveInput = z.infer<typeof reserveInputSchema>;
export type CommitInput = z.infer<typeof commitInputSchema>;
export type UsageEventInput = z.infer<typeof usageEventSchema>;

/** The facts every record of a request carries: the API key that made it and what the caller told. */
export function requestFacts(actor: Actor, request?: RequestInfo): UsageFacts {
  const parsed = request ? requestInfoSchema.safeParse(request) : undefined;
  if (parsed && !parsed.success) {
    throw validationError('Request info is invalid', parsed.error);
  }
  return { ...(actor.type === 'api_key' && { api_key_id: actor.apiKeyId }), ...parsed?.data };
}

/** The amount to hold for a model-based reservation: the estimate, at least one micro-credit. */
export async function estimatedHold(
  ctx: LedgerContext,
  orgId: string,
  input: { model: string; provider?: string; estimate: z.infer<typeof estimateRequestSchema> },
): Promise<{ amount: bigint; facts: UsageFacts; terms: PriceTerms }> {
  const estimate = await estimateAmount(ctx, orgId, { model: input.model, provider: input.provider, ...input.estimate });
  return {
    amount: estimate.amount > 0n ? estimate.amount : 1n,
    facts: { model: input.model, provider: estimate.terms.price.provider },
    terms: estimate.terms,
  };
}

/** Prices usage as of `at`; the facts name the model, tokens and price versions. */
export async function pricedUsage(
  ctx: LedgerContext,
  orgId: string,
  usage: ModelUsage,
  at?: Date,
): Promise<{ amount: bigint; facts: UsageFacts }> {
  const priced = await priceUsage(ctx, orgId, usage, at);
  return { amount: priced.amount, facts: pricedUsageFacts(usage, priced) };
}

/** The facts a priced usage record keeps: model, tokens, provider and the price versions it was priced by. */
export function pricedUsageFacts(
  usage: ModelUsage,
  priced: { provider: string; price_version_id: string; org_price_version_id: string | null },
): UsageFacts {
  return {
    model: usage.model,
    provider: priced.provider,
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cached_input_tokens: usage.cached_input_tokens,
    cache_write_tokens: usage.cache_write_tokens,
    reasoning_tokens: usage.reasoning_tokens,
    price_version_id: priced.price_version_id,
    org_price_version_id: priced.org_price_version_id,
  };
}

/** The model usage of an event's flat fields. */
export function eventUsage(event: { model?: string; provider?: string } & Partial<z.infer<typeof usageTokensSchema>>): ModelUsage {
  const parsed = modelUsageSchema.safeParse(event);
  if (!parsed.success) throw new AppError('validation_failed', 'model usage needs input_tokens and output_tokens');
  return parsed.data;
}
