/**
 * Reading prices for people: the global catalog in force now (searchable, a page at a time), the org's
 * current settings and overrides, and the history of its versions. Prices come out as USD decimal strings.
 */
import type { Prisma } from '../generated/prisma/client.ts';
import { formatCredits } from '../money/credits.ts';
import type { PriceTier } from './catalog-source.ts';
import {
  DEFAULT_ESTIMATE_MARGIN_BPS,
  DEFAULT_ESTIMATE_OUTPUT_CAP,
  DEFAULT_MICROS_PER_USD,
  pricingAsOf,
  type PricingContext,
} from './catalog.ts';
import type { MatchRule } from './match.ts';
import { formatUsd } from './usd.ts';

export type PriceView = {
  provider: string;
  model: string;
  match: MatchRule;
  input: string;
  output: string;
  cachedInput: string | null;
  cacheWrite: string | null;
  reasoning: string | null;
  requestFee: string | null;
  tiers: Array<{ start: number; input: string; output: string }>;
  maxOutputTokens: number | null;
};

type Row = Prisma.ModelPriceGetPayload<object>;

function view(r: Row): PriceView {
  const usd = (n: bigint | null) => (n === null ? null : formatUsd(n));
  return {
    provider: r.provider,
    model: r.model,
    match: r.match as MatchRule,
    input: formatUsd(r.inputNano),
    output: formatUsd(r.outputNano),
    cachedInput: usd(r.cacheReadNano),
    cacheWrite: usd(r.cacheWriteNano),
    reasoning: usd(r.reasoningNano),
    requestFee: r.requestFeeNano > 0n ? formatUsd(r.requestFeeNano) : null,
    tiers: (r.tiers as PriceTier[]).map((t) => ({ start: t.start, input: formatUsd(BigInt(t.input)), output: formatUsd(BigInt(t.output)) })),
    maxOutputTokens: r.maxOutputTokens,
  };
}

/** A page of the catalog in force now, filtered by model or provider name. */
export async function browseCatalog(
  ctx: PricingContext,
  orgId: string,
  options: { search?: string; page?: number; pageSize?: number },
): Promise<{ rows: PriceView[]; total: number; catalogKey: string | null }> {
  const pricing = await pricingAsOf(ctx, orgId, ctx.now?.() ?? new Date());
  if (!pricing.global) return { rows: [], total: 0, catalogKey: null };
  const pageSize = options.pageSize ?? 50;
  const where: Prisma.ModelPriceWhereInput = { priceVersionId: pricing.global.id };
  const search = options.search?.trim();
  if (search) {
    where.OR = [{ model: { contains: search, mode: 'insensitive' } }, { provider: { contains: search, mode: 'insensitive' } }];
  }
  const [rows, total, version] = await Promise.all([
    ctx.db.modelPrice.findMany({ where, orderBy: { position: 'asc' }, skip: Math.max(0, (options.page ?? 0) * pageSize), take: pageSize }),
    ctx.db.modelPrice.count({ where }),
    ctx.db.priceVersion.findUnique({ where: { id: pricing.global.id }, select: { catalogKey: true } }),
  ]);
  return { rows: rows.map(view), total, catalogKey: version?.catalogKey ?? null };
}

export type OrgPricingView = {
  versionId: string | null;
  effectiveAt: Date | null;
  creditsPerUsd: string;
  markupBps: number;
  estimateMarginBps: number;
  estimateOutputCap: number;
  defaultPrice: { input: string; output: string } | null;
  /** Volume discounts: from credits charged in the month, basis points off. */
  discountTiers: Array<{ fromCredits: string; bps: number }>;
  overrides: PriceView[];
  /**
   * When the next version already written starts, if one is scheduled. Changes made since it was written are
   * carried into it, except where it sets a price or setting itself (org-prices.ts).
   */
  nextScheduledAt: Date | null;
  /** `replaced`: a version written later starts at the same time, so this one never applies. */
  history: Array<{ id: string; effectiveAt: Date; createdAt: Date; note: string | null; createdBy: string | null; models: number; scheduled: boolean; replaced: boolean }>;
};

/** The org's pricing in force now (defaults where it has set nothing) and every version it has written. */
export async function getOrgPricing(ctx: PricingContext, orgId: string): Promise<OrgPricingView> {
  const now = ctx.now?.() ?? new Date();
  const current = await ctx.db.priceVersion.findFirst({
    where: { orgId, effectiveAt: { lte: now } },
    orderBy: [{ effectiveAt: 'desc' }, { createdAt: 'desc' }],
    include: { prices: { orderBy: { position: 'asc' } } },
  });
  const versions = await ctx.db.priceVersion.findMany({
    where: { orgId },
    orderBy: { createdAt: 'desc' },
    take: 100,
    select: { id: true, effectiveAt: true, createdAt: true, note: true, createdById: true, _count: { select: { prices: true } } },
  });
  const creators = await ctx.db.user.findMany({
    where: { id: { in: versions.flatMap((v) => (v.createdById ? [v.createdById] : [])) } },
    select: { id: true, name: true, email: true },
  });
  const names = new Map(creators.map((u) => [u.id, u.name || u.email || u.id]));
  return {
    versionId: current?.id ?? null,
    effectiveAt: current?.effectiveAt ?? null,
    creditsPerUsd: formatCredits(current?.microsPerUsd ?? DEFAULT_MICROS_PER_USD),
    markupBps: current?.markupBps ?? 0,
    estimateMarginBps: current?.estimateMarginBps ?? DEFAULT_ESTIMATE_MARGIN_BPS,
    estimateOutputCap: current?.estimateOutputCap ?? DEFAULT_ESTIMATE_OUTPUT_CAP,
    defaultPrice:
      current?.defaultInputNano && current.defaultOutputNano
        ? { input: formatUsd(current.defaultInputNano), output: formatUsd(current.defaultOutputNano) }
        : null,
    discountTiers: ((current?.discountTiers ?? []) as Array<{ from: string; bps: number }>).map((t) => ({
      fromCredits: formatCredits(BigInt(t.from)),
      bps: t.bps,
    })),
    overrides: current?.prices.map(view) ?? [],
    nextScheduledAt: versions.filter((v) => v.effectiveAt > now).reduce<Date | null>((next, v) => (next === null || v.effectiveAt < next ? v.effectiveAt : next), null),
    history: versions.map((v) => ({
      id: v.id,
      effectiveAt: v.effectiveAt,
      createdAt: v.createdAt,
      note: v.note,
      createdBy: v.createdById ? (names.get(v.createdById) ?? null) : null,
      models: v._count.prices,
      scheduled: v.effectiveAt > now,
      replaced: versions.some((w) => w.effectiveAt.getTime() === v.effectiveAt.getTime() && w.createdAt > v.createdAt),
    })),
  };
}
