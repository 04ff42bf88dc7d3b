/**
 * Changing one override or custom model of an org at a time: the new version, effective now, holds the list of
 * the version in force with that one model added, replaced or removed (see org-prices.ts for what a version
 * holds).
 */
import type { z } from 'zod';
import { AppError } from '../http/errors.ts';
import type { PricingContext } from './catalog.ts';
import type { MatchRule } from './match.ts';
import { createOrgPriceVersion, orgVersionInForce, type modelOverrideSchema } from './org-prices.ts';
import { formatUsd } from './usd.ts';

export type ModelOverrideInput = z.input<typeof modelOverrideSchema>;

async function currentOverrides(ctx: PricingContext, orgId: string): Promise<ModelOverrideInput[]> {
  const inForce = await orgVersionInForce(ctx, orgId, ctx.now?.() ?? new Date());
  return (inForce?.prices ?? []).map((p) => ({
    provider: p.provider,
    model: p.model,
    match: p.match as MatchRule,
    input: formatUsd(p.inputNano),
    ...(p.outputNano === 0n ? { input_only: true } : { output: formatUsd(p.outputNano) }),
    ...(p.cacheReadNano !== null && { cached_input: formatUsd(p.cacheReadNano) }),
    ...(p.cacheWriteNano !== null && { cache_write: formatUsd(p.cacheWriteNano) }),
    ...(p.reasoningNano !== null && { reasoning: formatUsd(p.reasoningNano) }),
    ...(p.requestFeeNano > 0n && { request_fee: formatUsd(p.requestFeeNano) }),
    ...(p.maxOutputTokens !== null && { max_output_tokens: p.maxOutputTokens }),
    ...(p.contextWindow !== null && { context_window: p.contextWindow }),
  }));
}

const sameModel = (a: { model: string }, b: { model: string }) => a.model.trim().toLowerCase() === b.model.trim().toLowerCase();

/** Adds or replaces the override of `override.model` in a new version. */
export async function saveModelOverride(
  ctx: PricingContext,
  orgId: string,
  override: ModelOverrideInput,
  createdById: string | null,
): Promise<{ id: string }> {
  const list = (await currentOverrides(ctx, orgId)).filter((o) => !sameModel(o, override));
  return createOrgPriceVersion(ctx, orgId, { models: [...list, override], note: `Price of ${override.model} set` }, createdById);
}

/** Removes the override of `model` in a new version; not_found when the org has none. */
export async function removeModelOverride(
  ctx: PricingContext,
  orgId: string,
  model: string,
  createdById: string | null,
): Promise<{ id: string }> {
  const list = await currentOverrides(ctx, orgId);
  const kept = list.filter((o) => !sameModel(o, { model }));
  if (kept.length === list.length) throw new AppError('not_found', `No override for ${model}`);
  return createOrgPriceVersion(ctx, orgId, { models: kept, note: `Price of ${model} removed` }, createdById);
}
