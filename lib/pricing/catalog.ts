/**
 * Price lookups "as of" a time: the org's own version in force then (settings, overrides, custom models,
 * default price) over the global catalog version in force then. The global catalog is seeded from the bundled
 * price data on first use, once per catalog release (its catalog_key is unique, so concurrent seeders agree).
 *
 * This sits on the metering hot path, so the lists of versions are cached in-process for a few seconds (a new
 * version is seen within CACHE_MS), and a version's prices, which never change, are cached until evicted.
 */
import type { Db } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { AppError } from '../http/errors.ts';
import { CATALOG_KEY, loadCatalogRows, type PriceTier } from './catalog-source.ts';
import type { ModelPriceData, OrgRates } from './calculate.ts';
import { normalizeModel, selectPrice, type MatchRule } from './match.ts';
import { RefreshingMemory } from '../ops/refreshing-memory.ts';

export type PricingContext = { db: Db; now?: () => Date };

/** 1 credit = USD 0.01: 100 credits (100,000,000 micro-credits) per USD, unless the org sets its own rate. */
export const DEFAULT_MICROS_PER_USD = 100_000_000n;
/** Margin added to token estimates of models without their own tokenizer here. */
export const DEFAULT_ESTIMATE_MARGIN_BPS = 2000;
/** Output tokens an estimate assumes when neither the request nor the model says how many may come. */
export const DEFAULT_ESTIMATE_OUTPUT_CAP = 4096;

const CACHE_MS = 5_000;
const MAX_CACHED_VERSIONS = 64;
const MAX_MEMO_NAMES = 5_000;

export type VersionHeader = {
  id: string;
  orgId: string | null;
  effectiveAt: Date;
  microsPerUsd: bigint | null;
  markupBps: number | null;
  estimateMarginBps: number | null;
  estimateOutputCap: number | null;
  defaultInputNano: bigint | null;
  defaultOutputNano: bigint | null;
  discountTiers: DiscountTier[];
};

/** From `from` micro-credits charged in the calendar month (UTC), `bps` off. */
export type DiscountTier = { from: string; bps: number };

type PriceRow = ModelPriceData & { match: MatchRule };
type CompiledVersion = { rows: PriceRow[]; memo: Map<string, PriceRow | null> };

// Concurrent lookups (a batch of a thousand events) share one query, and a busy org never waits for one every
// few seconds (lib/ops/refreshing-memory.ts).
// Prices are not answered stale for long (as settings are): a request after a quiet spell waits for a list
// more than a few seconds old rather than be priced by a version another instance has replaced since.
const versionLists = new RefreshingMemory<string, VersionHeader[]>('pricing-version-lists', CACHE_MS);
const monthSpends = new RefreshingMemory<string, bigint>('pricing-month-spends', CACHE_MS);
const compiled = new Map<string, Promise<CompiledVersion>>();
let seeding: Promise<void> | undefined;
/** Databases whose catalog of this release this process has found or seeded. */
const catalogSeeded = new WeakSet<Db>();

/** Forgets cached version lists (after this process creates a version, so it sees it at once). */
export function forgetPricingCache(orgId?: string): void {
  versionLists.forget(orgId);
  monthSpends.forget();
}

const headerSelect = {
  id: true,
  orgId: true,
  effectiveAt: true,
  microsPerUsd: true,
  markupBps: true,
  estimateMarginBps: true,
  estimateOutputCap: true,
  defaultInputNano: true,
  defaultOutputNano: true,
  discountTiers: true,
} as const;

/** Seeds the global catalog from the bundled price data unless this release is already there. */
export async function ensureGlobalCatalog(db: Db, now = new Date()): Promise<void> {
  const existing = await db.priceVersion.findUnique({ where: { catalogKey: CATALOG_KEY }, select: { id: true } });
  if (existing) return;
  const rows = await loadCatalogRows(now);
  try {
    await db.$transaction(async (tx) => {
      const earlier = await tx.priceVersion.count({ where: { orgId: null } });
      const version = await tx.priceVersion.create({
        data: {
          catalogKey: CATALOG_KEY,
          // The first catalog applies to all time, so backfilled usage finds a price; later releases from now.
          effectiveAt: earlier === 0 ? new Date(0) : now,
          note: `Catalog ${CATALOG_KEY}`,
        },
      });
      await tx.modelPrice.createMany({
        data: rows.map((r) => ({ ...r, match: r.match as Prisma.InputJsonValue, tiers: r.tiers as Prisma.InputJsonValue, priceVersionId: version.id })),
      });
    }, { timeout: 60_000 });
  } catch (err) {
    // Another process seeded it meanwhile.
    if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
  }
}

async function loadVersionList(db: Db, orgId: string | null): Promise<VersionHeader[]> {
  // The catalog of this release is checked for (and seeded) once per process and database, not at every
  // refresh.
  if (!orgId && !catalogSeeded.has(db)) {
    seeding ??= ensureGlobalCatalog(db)
      .then(() => {
        catalogSeeded.add(db);
      })
      .finally(() => {
        seeding = undefined;
      });
    await seeding;
  }
  const rows = await db.priceVersion.findMany({
    where: { orgId },
    select: headerSelect,
    orderBy: [{ effectiveAt: 'asc' }, { createdAt: 'asc' }],
  });
  return rows.map((r) => ({ ...r, discountTiers: r.discountTiers as DiscountTier[] }));
}

function versionList(db: Db, orgId: string | null): Promise<VersionHeader[]> {
  return versionLists.get(orgId ?? 'global', () => loadVersionList(db, orgId));
}

function asOf(list: VersionHeader[], at: Date): VersionHeader | null {
  let chosen: VersionHeader | null = null;
  for (const v of list) if (v.effectiveAt.getTime() <= at.getTime()) chosen = v;
  return chosen;
}

export type PricingAsOf = {
  org: VersionHeader | null;
  global: VersionHeader | null;
  rates: OrgRates;
  estimateMarginBps: number;
  estimateOutputCap: number;
};

/**
 * What the org has been charged in the calendar month (UTC) of `at`, up to `at`, from the hourly rollups;
 * remembered for a few seconds, so a discount tier is reached within CACHE_MS of the charge that reaches it.
 */
function monthSpend(db: Db, orgId: string, at: Date): Promise<bigint> {
  const monthStart = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const key = `${orgId}:${monthStart.toISOString()}`;
  return monthSpends.get(key, () =>
    db
      .$queryRawUnsafe<Array<{ spent: string }>>(
        `SELECT coalesce(sum(cost), 0)::text AS spent FROM "usage_rollups_hourly"
          WHERE org_id = $1::uuid AND hour >= $2::timestamptz AND hour <= $3::timestamptz`,
        orgId,
        monthStart.toISOString(),
        at.toISOString(),
      )
      .then((rows) => BigInt(rows[0]?.spent ?? '0')),
  );
}

async function discountBps(db: Db, orgId: string, org: VersionHeader | null, at: Date): Promise<number> {
  if (!org || org.discountTiers.length === 0) return 0;
  const spent = await monthSpend(db, orgId, at);
  let bps = 0;
  for (const tier of org.discountTiers) if (spent >= BigInt(tier.from)) bps = tier.bps;
  return bps;
}

/** The org's pricing in force at `at`. */
export async function pricingAsOf(ctx: PricingContext, orgId: string, at: Date): Promise<PricingAsOf> {
  const [orgList, globalList] = await Promise.all([versionList(ctx.db, orgId), versionList(ctx.db, null)]);
  const org = asOf(orgList, at);
  return {
    org,
    global: asOf(globalList, at),
    rates: {
      microsPerUsd: org?.microsPerUsd ?? DEFAULT_MICROS_PER_USD,
      markupBps: org?.markupBps ?? 0,
      discountBps: await discountBps(ctx.db, orgId, org, at),
    },
    estimateMarginBps: org?.estimateMarginBps ?? DEFAULT_ESTIMATE_MARGIN_BPS,
    estimateOutputCap: org?.estimateOutputCap ?? DEFAULT_ESTIMATE_OUTPUT_CAP,
  };
}

async function loadVersion(db: Db, versionId: string): Promise<CompiledVersion> {
  const rows = await db.modelPrice.findMany({
    where: { priceVersionId: versionId },
    orderBy: [{ priority: 'asc' }, { position: 'asc' }],
  });
  return {
    rows: rows.map((r) => ({
      priceVersionId: r.priceVersionId,
      provider: r.provider,
      model: r.model,
      match: r.match as MatchRule,
      inputNano: r.inputNano,
      outputNano: r.outputNano,
      cacheReadNano: r.cacheReadNano,
      cacheWriteNano: r.cacheWriteNano,
      reasoningNano: r.reasoningNano,
      tiers: r.tiers as PriceTier[],
      requestFeeNano: r.requestFeeNano,
      contextWindow: r.contextWindow,
      maxOutputTokens: r.maxOutputTokens,
    })),
    memo: new Map(),
  };
}

function versionPrices(db: Db, versionId: string): Promise<CompiledVersion> {
  let entry = compiled.get(versionId);
  if (!entry) {
    if (compiled.size >= MAX_CACHED_VERSIONS) compiled.delete(compiled.keys().next().value as string);
    entry = loadVersion(db, versionId);
    entry.catch(() => compiled.delete(versionId));
    compiled.set(versionId, entry);
  }
  return entry;
}

function findIn(version: CompiledVersion, name: string, provider: string | undefined): PriceRow | null {
  const key = `${provider ?? ''}\u0000${name}`;
  if (version.memo.has(key)) return version.memo.get(key) ?? null;
  const found = selectPrice(version.rows, name, provider);
  if (version.memo.size >= MAX_MEMO_NAMES) version.memo.clear();
  version.memo.set(key, found);
  return found;
}

/**
 * The price of `model` for the org at `at`: the org's overrides and custom models first, then the global
 * catalog (the named provider's entry when there is one), then the org's default price; else 422
 * unknown_model.
 */
export async function findModelPrice(
  ctx: PricingContext,
  orgId: string,
  model: string,
  options: { at: Date; provider?: string; pricing?: PricingAsOf },
): Promise<ModelPriceData> {
  const pricing = options.pricing ?? (await pricingAsOf(ctx, orgId, options.at));
  const name = normalizeModel(model);
  const provider = options.provider?.trim().toLowerCase() || undefined;
  for (const version of [pricing.org, pricing.global]) {
    if (!version) continue;
    const row = findIn(await versionPrices(ctx.db, version.id), name, provider);
    if (row) {
      const { match: _match, ...price } = row;
      return price;
    }
  }
  const org = pricing.org;
  if (org?.defaultInputNano && org.defaultOutputNano) {
    return {
      priceVersionId: org.id,
      provider: provider ?? 'default',
      model: name,
      inputNano: org.defaultInputNano,
      outputNano: org.defaultOutputNano,
      cacheReadNano: null,
      cacheWriteNano: null,
      reasoningNano: null,
      tiers: [],
      requestFeeNano: 0n,
      contextWindow: null,
      maxOutputTokens: null,
    };
  }
  throw new AppError('unknown_model', `No price is known for the model "${model}"`, { model });
}
