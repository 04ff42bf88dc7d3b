/**
 * An org's own prices: credits per USD, markup or discount, estimate settings, a default price for models no
 * list knows, and overrides or custom models matched by rule. Every change writes a new version holding the
 * whole list (what the change leaves out is carried over from the version in force when it starts), effective
 * now or at a later time; versions are never edited, so what was charged can always be explained.
 *
 * A change is also carried into the versions already scheduled to start after it, as a merge: each setting
 * and each model price the change altered is altered likewise in a scheduled version that left it as it was,
 * and kept where that version sets it otherwise itself (its own scheduled change wins). Versions being never
 * edited, a scheduled version that the change alters is replaced by a new one starting at the same time.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { ModelPrice, PriceVersion, Prisma } from '../generated/prisma/client.ts';
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
export function orgVersionInForce(ctx: { db: Pick<PricingContext['db'], 'priceVersion'> }, orgId: string, at: Date) {
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
  const version = await ctx.db.$transaction(async (tx) => {
    // One change of an org's prices at a time: each builds on, and merges into, what the last one left.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`pricing:${orgId}`}, 0))`;
    // What the input leaves out is kept from the version in force when this one starts (not from the last one
    // written: that may be scheduled for later).
    const previous = await orgVersionInForce({ db: tx }, orgId, effectiveAt);
    const before = previous ? contentOf(previous) : NO_VERSION;
    const content = versionContent(input, before);
    const written = await insertVersion(tx, orgId, effectiveAt, createdById, input.note ?? null, content);
    const change = input.note ?? `the change of ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    await carryIntoScheduled(tx, orgId, effectiveAt, before, content, { createdById, change });
    return written;
  });
  forgetPricingCache(orgId);
  return version;
}

/** The content of a new version: the input, and what it leaves out as `before` has it. */
function versionContent(input: ParsedOrgPricing, before: VersionContent): VersionContent {
  const models: ModelRow[] =
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
    })) ?? before.models;
  const defaultPrice =
    input.default_price === undefined
      ? { input: before.defaultInputNano, output: before.defaultOutputNano }
      : { input: input.default_price?.input ?? null, output: input.default_price?.output ?? null };
  return {
    microsPerUsd: input.credits_per_usd ?? before.microsPerUsd,
    markupBps: input.markup_bps ?? before.markupBps,
    estimateMarginBps: input.estimate_margin_bps ?? before.estimateMarginBps,
    estimateOutputCap: input.estimate_output_cap ?? before.estimateOutputCap,
    defaultInputNano: defaultPrice.input,
    defaultOutputNano: defaultPrice.output,
    discountTiers: input.discount_tiers?.map((t) => ({ from: t.from_credits.toString(), bps: t.discount_bps })) ?? before.discountTiers,
    models,
  };
}

type ModelRow = Omit<ModelPrice, 'id' | 'priceVersionId' | 'match' | 'tiers'> & { match: Prisma.InputJsonValue; tiers: Prisma.InputJsonValue };
/** What a version holds: its settings and its model prices. */
type VersionContent = Pick<PriceVersion, 'microsPerUsd' | 'markupBps' | 'estimateMarginBps' | 'estimateOutputCap' | 'defaultInputNano' | 'defaultOutputNano'> & {
  discountTiers: Prisma.InputJsonValue;
  models: ModelRow[];
};
type StoredVersion = PriceVersion & { prices: ModelPrice[] };

/** What an org without a version of its own has: the defaults everywhere. */
const NO_VERSION: VersionContent = {
  microsPerUsd: null,
  markupBps: null,
  estimateMarginBps: null,
  estimateOutputCap: null,
  defaultInputNano: null,
  defaultOutputNano: null,
  discountTiers: [],
  models: [],
};

function contentOf(v: StoredVersion): VersionContent {
  return {
    microsPerUsd: v.microsPerUsd,
    markupBps: v.markupBps,
    estimateMarginBps: v.estimateMarginBps,
    estimateOutputCap: v.estimateOutputCap,
    defaultInputNano: v.defaultInputNano,
    defaultOutputNano: v.defaultOutputNano,
    discountTiers: v.discountTiers as Prisma.InputJsonValue,
    models: v.prices.map(({ id: _id, priceVersionId: _v, match, tiers, ...rest }) => ({
      ...rest,
      match: match as Prisma.InputJsonValue,
      tiers: tiers as Prisma.InputJsonValue,
    })),
  };
}

function insertVersion(tx: Prisma.TransactionClient, orgId: string, effectiveAt: Date, createdById: string | null, note: string | null, c: VersionContent) {
  return tx.priceVersion.create({
    data: {
      orgId,
      effectiveAt,
      createdById,
      note,
      microsPerUsd: c.microsPerUsd,
      markupBps: c.markupBps,
      estimateMarginBps: c.estimateMarginBps,
      estimateOutputCap: c.estimateOutputCap,
      defaultInputNano: c.defaultInputNano,
      defaultOutputNano: c.defaultOutputNano,
      discountTiers: c.discountTiers,
      prices: { create: c.models.map((m, position) => ({ ...m, position })) },
    },
    select: { id: true, effectiveAt: true },
  });
}

/** Equal settings or model prices, whatever the order of their keys. */
const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);

/** A model price as compared between versions: everything but its place in the list. */
const priceOf = ({ position: _p, ...rest }: ModelRow) => rest;

/** Model prices by lower-cased name (and occurrence, should a list name a model twice). */
function byName(models: ModelRow[]): Map<string, ModelRow> {
  const map = new Map<string, ModelRow>();
  for (const m of models) {
    const name = m.model.trim().toLowerCase();
    let key = name;
    for (let n = 2; map.has(key); n++) key = `${name}#${n}`;
    map.set(key, m);
  }
  return map;
}

/**
 * The scheduled version `theirs` with the change from `base` to `ours` merged in: a setting or model price
 * `theirs` holds as `base` did takes the value of `ours` (a model added, changed or removed alike); one it
 * holds otherwise stays. Its models keep their order; models the change added come last.
 */
function mergeScheduled(base: VersionContent, ours: VersionContent, theirs: VersionContent): VersionContent {
  const pick = <T>(b: T, o: T, t: T): T => (same(t, b) ? o : t);
  const setting = <K extends Exclude<keyof VersionContent, 'models' | 'defaultInputNano' | 'defaultOutputNano'>>(key: K) =>
    pick(base[key], ours[key], theirs[key]);
  const defaults = pick(
    [base.defaultInputNano, base.defaultOutputNano],
    [ours.defaultInputNano, ours.defaultOutputNano],
    [theirs.defaultInputNano, theirs.defaultOutputNano],
  );
  const [b, o, t] = [byName(base.models), byName(ours.models), byName(theirs.models)];
  const models: ModelRow[] = [];
  for (const key of new Set([...t.keys(), ...o.keys()])) {
    const [inBase, inOurs, inTheirs] = [b.get(key), o.get(key), t.get(key)];
    const kept = same(inTheirs && priceOf(inTheirs), inBase && priceOf(inBase)) ? inOurs : inTheirs;
    if (kept) models.push(kept);
  }
  return {
    microsPerUsd: setting('microsPerUsd'),
    markupBps: setting('markupBps'),
    estimateMarginBps: setting('estimateMarginBps'),
    estimateOutputCap: setting('estimateOutputCap'),
    defaultInputNano: defaults[0],
    defaultOutputNano: defaults[1],
    discountTiers: setting('discountTiers'),
    models,
  };
}

/**
 * Carries the change from `base` to `ours`, effective at `after`, into each version scheduled to start later
 * (the one written last at each start time, the one that applies), in order: each merged with the change as
 * its predecessor was rewritten, and replaced when that alters it.
 */
async function carryIntoScheduled(
  tx: Prisma.TransactionClient,
  orgId: string,
  after: Date,
  base: VersionContent,
  ours: VersionContent,
  by: { createdById: string | null; change: string },
): Promise<void> {
  const later = await tx.priceVersion.findMany({
    where: { orgId, effectiveAt: { gt: after } },
    orderBy: [{ effectiveAt: 'asc' }, { createdAt: 'desc' }],
    include: { prices: { orderBy: { position: 'asc' } } },
    distinct: ['effectiveAt'],
  });
  for (const scheduled of later) {
    const theirs = contentOf(scheduled);
    const merged = mergeScheduled(base, ours, theirs);
    if (!same({ ...merged, models: merged.models.map(priceOf) }, { ...theirs, models: theirs.models.map(priceOf) })) {
      const note = `${scheduled.note ?? 'Scheduled version'}, with ${by.change}`.slice(0, 500);
      await insertVersion(tx, orgId, scheduled.effectiveAt, by.createdById, note, merged);
    }
    [base, ours] = [theirs, merged];
  }
}
