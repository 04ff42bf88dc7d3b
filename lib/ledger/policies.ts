/**
 * Org credit policy and per-member overrides: automatic allocation, monthly refill, pool fallback with daily
 * and monthly limits, overdraft, reservation TTLs. Read often on the metering path, so cached for a few
 * seconds per process; writes clear the cache of this process at once.
 */
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { recordAudit } from '../auth/actor.ts';
import { AppError } from '../http/errors.ts';
import { formatCredits, nonNegativeCreditsSchema } from '../money/credits.ts';
import type { LedgerContext } from './context.ts';
import { withTransaction } from '../users/create-user.ts';
import { ensureOrgLedger } from './accounts.ts';
import { processMap } from '../ops/process-memory.ts';

export type OrgPolicyValues = {
  autoAllocation: bigint;
  monthlyRefillTo: bigint | null;
  poolFallback: boolean;
  poolDailyLimit: bigint | null;
  poolMonthlyLimit: bigint | null;
  overdraftLimit: bigint;
  defaultReservationTtlSec: number;
  maxReservationTtlSec: number;
};

export type MemberPolicyValues = {
  autoAllocation: bigint | null;
  monthlyRefillTo: bigint | null;
  poolFallback: boolean | null;
  poolDailyLimit: bigint | null;
  poolMonthlyLimit: bigint | null;
};

export type EffectivePolicy = Omit<OrgPolicyValues, 'overdraftLimit'> & { overdraftLimit: bigint };

const TTL_MS = 5_000;
const orgCache = processMap<string, { value: OrgPolicyValues; at: number }>('ledger-org-policies');
const memberCache = processMap<string, { value: MemberPolicyValues | null; at: number }>('ledger-member-policies');

export const DEFAULT_POLICY: OrgPolicyValues = {
  autoAllocation: 0n,
  monthlyRefillTo: null,
  poolFallback: false,
  poolDailyLimit: null,
  poolMonthlyLimit: null,
  overdraftLimit: 0n,
  defaultReservationTtlSec: 300,
  maxReservationTtlSec: 3600,
};

export async function getOrgPolicy(ctx: LedgerContext, orgId: string): Promise<OrgPolicyValues> {
  const hit = orgCache.get(orgId);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const row = await ctx.db.orgPolicy.findUnique({ where: { orgId } });
  const value: OrgPolicyValues = row
    ? {
        autoAllocation: row.autoAllocation,
        monthlyRefillTo: row.monthlyRefillTo,
        poolFallback: row.poolFallback,
        poolDailyLimit: row.poolDailyLimit,
        poolMonthlyLimit: row.poolMonthlyLimit,
        overdraftLimit: row.overdraftLimit,
        defaultReservationTtlSec: row.defaultReservationTtlSec,
        maxReservationTtlSec: row.maxReservationTtlSec,
      }
    : DEFAULT_POLICY;
  orgCache.set(orgId, { value, at: Date.now() });
  return value;
}

export async function getMemberPolicy(ctx: LedgerContext, membershipId: string): Promise<MemberPolicyValues | null> {
  const hit = memberCache.get(membershipId);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const value = memberPolicyValues(await ctx.db.memberPolicy.findUnique({ where: { membershipId } }));
  memberCache.set(membershipId, { value, at: Date.now() });
  return value;
}

function memberPolicyValues(row: MemberPolicyValues | null): MemberPolicyValues | null {
  if (!row) return null;
  return {
    autoAllocation: row.autoAllocation,
    monthlyRefillTo: row.monthlyRefillTo,
    poolFallback: row.poolFallback,
    poolDailyLimit: row.poolDailyLimit,
    poolMonthlyLimit: row.poolMonthlyLimit,
  };
}

/** Loads the overrides of many members with one query into the cache (a usage batch). */
export async function preloadMemberPolicies(ctx: LedgerContext, membershipIds: string[]): Promise<void> {
  const now = Date.now();
  const missing = [...new Set(membershipIds)].filter((id) => {
    const hit = memberCache.get(id);
    return !hit || now - hit.at >= TTL_MS;
  });
  if (missing.length === 0) return;
  const rows = await ctx.db.memberPolicy.findMany({ where: { membershipId: { in: missing } } });
  const byId = new Map(rows.map((r) => [r.membershipId, r]));
  for (const id of missing) memberCache.set(id, { value: memberPolicyValues(byId.get(id) ?? null), at: now });
}

/** The org policy with the member's overrides applied. */
export async function getEffectivePolicy(
  ctx: LedgerContext,
  orgId: string,
  membershipId: string,
): Promise<EffectivePolicy> {
  const [org, member] = await Promise.all([getOrgPolicy(ctx, orgId), getMemberPolicy(ctx, membershipId)]);
  return {
    ...org,
    autoAllocation: member?.autoAllocation ?? org.autoAllocation,
    monthlyRefillTo: member?.monthlyRefillTo ?? org.monthlyRefillTo,
    poolFallback: member?.poolFallback ?? org.poolFallback,
    poolDailyLimit: member?.poolDailyLimit ?? org.poolDailyLimit,
    poolMonthlyLimit: member?.poolMonthlyLimit ?? org.poolMonthlyLimit,
  };
}

const optionalCredits = z.union([z.null(), nonNegativeCreditsSchema]).optional();

export const orgPolicyInputSchema = z
  .object({
    auto_allocation: nonNegativeCreditsSchema.optional(),
    monthly_refill_to: optionalCredits,
    pool_fallback: z.boolean().optional(),
    pool_daily_limit: optionalCredits,
    pool_monthly_limit: optionalCredits,
    overdraft_limit: nonNegativeCreditsSchema.optional(),
    default_reservation_ttl_seconds: z.number().int().min(1).max(86_400).optional(),
    max_reservation_ttl_seconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();

export const memberPolicyInputSchema = z
  .object({
    auto_allocation: optionalCredits,
    monthly_refill_to: optionalCredits,
    pool_fallback: z.union([z.null(), z.boolean()]).optional(),
    pool_daily_limit: optionalCredits,
    pool_monthly_limit: optionalCredits,
  })
  .strict();

export type OrgPolicyInput = z.infer<typeof orgPolicyInputSchema>;
export type MemberPolicyInput = z.infer<typeof memberPolicyInputSchema>;

export function orgPolicyDto(p: OrgPolicyValues) {
  return {
    auto_allocation: formatCredits(p.autoAllocation),
    monthly_refill_to: p.monthlyRefillTo === null ? null : formatCredits(p.monthlyRefillTo),
    pool_fallback: p.poolFallback,
    pool_daily_limit: p.poolDailyLimit === null ? null : formatCredits(p.poolDailyLimit),
    pool_monthly_limit: p.poolMonthlyLimit === null ? null : formatCredits(p.poolMonthlyLimit),
    overdraft_limit: formatCredits(p.overdraftLimit),
    default_reservation_ttl_seconds: p.defaultReservationTtlSec,
    max_reservation_ttl_seconds: p.maxReservationTtlSec,
  };
}

export function memberPolicyDto(p: MemberPolicyValues | null) {
  const f = (v: bigint | null | undefined) => (v === null || v === undefined ? null : formatCredits(v));
  return {
    auto_allocation: f(p?.autoAllocation),
    monthly_refill_to: f(p?.monthlyRefillTo),
    pool_fallback: p?.poolFallback ?? null,
    pool_daily_limit: f(p?.poolDailyLimit),
    pool_monthly_limit: f(p?.poolMonthlyLimit),
  };
}

export async function updateOrgPolicy(
  ctx: LedgerContext,
  orgId: string,
  input: OrgPolicyInput,
  actor: Actor,
): Promise<OrgPolicyValues> {
  await ensureOrgLedger(ctx, orgId);
  const current = await getOrgPolicy(ctx, orgId);
  const next: OrgPolicyValues = {
    autoAllocation: input.auto_allocation ?? current.autoAllocation,
    monthlyRefillTo: input.monthly_refill_to === undefined ? current.monthlyRefillTo : input.monthly_refill_to,
    poolFallback: input.pool_fallback ?? current.poolFallback,
    poolDailyLimit: input.pool_daily_limit === undefined ? current.poolDailyLimit : input.pool_daily_limit,
    poolMonthlyLimit: input.pool_monthly_limit === undefined ? current.poolMonthlyLimit : input.pool_monthly_limit,
    overdraftLimit: input.overdraft_limit ?? current.overdraftLimit,
    defaultReservationTtlSec: input.default_reservation_ttl_seconds ?? current.defaultReservationTtlSec,
    maxReservationTtlSec: input.max_reservation_ttl_seconds ?? current.maxReservationTtlSec,
  };
  if (next.defaultReservationTtlSec > next.maxReservationTtlSec) {
    throw new AppError('validation_failed', 'The default reservation TTL cannot exceed the maximum');
  }
  // Joins the caller's transaction when ctx.db is one (an idempotent request stores its answer with it).
  await withTransaction(ctx.db, async (tx) => {
    await tx.orgPolicy.update({ where: { orgId }, data: { ...next, updatedAt: new Date() } });
    await recordAudit(tx, {
      orgId,
      actor,
      action: 'policy.updated',
      targetType: 'org',
      targetId: orgId,
      data: Object.fromEntries(Object.entries(orgPolicyDto(next)).map(([k, v]) => [k, v as string | number | boolean | null])),
    });
  });
  orgCache.delete(orgId);
  return next;
}

export async function updateMemberPolicy(
  ctx: LedgerContext,
  orgId: string,
  membershipId: string,
  input: MemberPolicyInput,
  actor: Actor,
): Promise<MemberPolicyValues> {
  const data = {
    ...(input.auto_allocation !== undefined && { autoAllocation: input.auto_allocation }),
    ...(input.monthly_refill_to !== undefined && { monthlyRefillTo: input.monthly_refill_to }),
    ...(input.pool_fallback !== undefined && { poolFallback: input.pool_fallback }),
    ...(input.pool_daily_limit !== undefined && { poolDailyLimit: input.pool_daily_limit }),
    ...(input.pool_monthly_limit !== undefined && { poolMonthlyLimit: input.pool_monthly_limit }),
  };
  const row = await withTransaction(ctx.db, async (tx) => {
    const saved = await tx.memberPolicy.upsert({
      where: { membershipId },
      create: { membershipId, ...data },
      update: { ...data, updatedAt: new Date() },
    });
    await recordAudit(tx, {
      orgId,
      actor,
      action: 'member_policy.updated',
      targetType: 'membership',
      targetId: membershipId,
      data: Object.fromEntries(Object.entries(memberPolicyDto(saved)).map(([k, v]) => [k, v as string | boolean | null])),
    });
    return saved;
  });
  memberCache.delete(membershipId);
  return row;
}
