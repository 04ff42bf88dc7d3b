/**
 * The metering hot path: reserve before an LLM call, commit its real cost after it, release on failure, or
 * record usage that already happened. Each call is one ledger operation, coalesced with others for the same
 * account (see coalescer.ts) and applied by the database function ledger_apply, which locks the account row,
 * so concurrent calls on one account can never spend the same credits twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { AppError } from '../http/errors.ts';
import { processMap } from '../ops/process-memory.ts';
import type { CommitOp, LedgerFailure, PoolFallback, ReleaseOp, ReserveOp, UsageOp } from './apply.ts';
import { opActor } from './apply.ts';
import { ensureOrgLedger, resolveMember, resolveMembers, type MemberAccount } from './accounts.ts';
import { runOp, type LedgerContext } from './context.ts';
import { applyUsageBatch, type BatchEvent } from './usage-batch.ts';
import { getEffectivePolicy, preloadMemberPolicies } from './policies.ts';
import { commitDto, releaseDto, reservationDto, usageDto, type CommitDto, type ReleaseDto, type ReservationDto, type UsageResultDto } from './metering-dto.ts';
import { toAppError } from './results.ts';
import { callFactsOf, withUsageFacts, type RequestInfo, type UsageFacts } from '../usage/carrier.ts';
import { recordReleasedRequest } from '../usage/records.ts';
import {
  estimatedHold,
  eventUsage,
  pricedUsage,
  requestFacts,
  type CommitInput,
  type ReserveInput,
  type UsageEventInput,
} from './model-inputs.ts';

export type Idempotency = { key: string; hash: string };

export { commitDto, releaseDto, reservationDto, usageDto, type CommitDto, type ReleaseDto, type ReservationDto, type UsageResultDto } from './metering-dto.ts';

export {
  commitInputSchema,
  releaseInputSchema,
  reserveInputSchema,
  pricedUsageFacts,
  usageEventSchema,
  type CommitInput,
  type ReserveInput,
  type UsageEventInput,
} from './model-inputs.ts';

const MAX_BACKFILL_DAYS = 400;

// In-process memory of which account a reservation belongs to, so a commit joins the batches of its account.
const reservationAccounts = processMap<string, string>('reservation-accounts');
function rememberReservation(id: string, accountId: string) {
  // Full: the oldest tenth goes at once. Evicting one entry per call would walk past every entry deleted
  // before it (a Map keeps deleted slots until it is rebuilt), which grows slower the longer it runs.
  if (reservationAccounts.size >= 100_000) {
    let n = 0;
    for (const key of reservationAccounts.keys()) {
      reservationAccounts.delete(key);
      if (++n >= 10_000) break;
    }
  }
  reservationAccounts.set(id, accountId);
}

/** A stable hash of a request's meaning, for idempotent repeats. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

function stableJson(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

async function poolFallback(ctx: LedgerContext, orgId: string, member: MemberAccount): Promise<PoolFallback> {
  const policy = await getEffectivePolicy(ctx, orgId, member.membershipId);
  if (!policy.poolFallback) return {};
  return {
    pool_account_id: await ensureOrgLedger(ctx, orgId),
    pool_daily_limit: policy.poolDailyLimit?.toString() ?? null,
    pool_monthly_limit: policy.poolMonthlyLimit?.toString() ?? null,
  };
}

export async function reserveCredits(
  ctx: LedgerContext,
  orgId: string,
  input: ReserveInput,
  actor: Actor,
  idempotency?: Idempotency,
  request?: RequestInfo,
): Promise<ReservationDto> {
  const member = await resolveMember(ctx, orgId, input.user);
  const policy = await getEffectivePolicy(ctx, orgId, member.membershipId);
  const ttl = input.ttl_seconds ?? policy.defaultReservationTtlSec;
  if (ttl > policy.maxReservationTtlSec) {
    throw new AppError('validation_failed', `ttl_seconds may be at most ${policy.maxReservationTtlSec}`, {
      field: 'ttl_seconds',
    });
  }
  const hold: { amount: bigint; facts?: UsageFacts } =
    input.amount !== undefined
      ? { amount: input.amount }
      : await estimatedHold(ctx, orgId, { model: input.model!, provider: input.provider, estimate: input.estimate! });
  const id = randomUUID();
  const op: ReserveOp = {
    type: 'reserve',
    id,
    account_id: member.accountId,
    membership_id: member.membershipId,
    amount: hold.amount.toString(),
    ttl_seconds: ttl,
    metadata: withUsageFacts(input.metadata, { ...requestFacts(actor, request), ...hold.facts }),
    ...(await poolFallback(ctx, orgId, member)),
    ...opActor(actor),
    ...(idempotency && { idempotency_key: idempotency.key, idempotency_hash: idempotency.hash }),
  };
  rememberReservation(id, member.accountId);
  return reservationDto(await runOp(ctx, orgId, op, member.accountId));
}

const RESERVATION_ID = z.uuid();

function checkReservationId(id: string): void {
  if (!RESERVATION_ID.safeParse(id).success) throw new AppError('not_found', 'Reservation not found');
}

/**
 * Commits a reservation. A usage commit is priced now, unless `priced` brings its price already computed from
 * the same catalog data (pricedUsageFacts with calculateCharge: the proxy prices a JSON answer in-process
 * with what its hold looked up); the commit is the same request either way.
 */
export async function commitReservation(
  ctx: LedgerContext,
  orgId: string,
  reservationId: string,
  input: CommitInput,
  actor: Actor,
  idempotency?: Idempotency,
  request?: RequestInfo,
  priced?: { amount: bigint; facts: UsageFacts },
): Promise<CommitDto> {
  checkReservationId(reservationId);
  if (priced && !input.usage) throw new AppError('validation_failed', 'a priced commit needs its usage');
  priced ??= input.usage ? await pricedUsage(ctx, orgId, input.usage) : undefined;
  const op: CommitOp = {
    type: 'commit',
    reservation_id: reservationId,
    amount: (priced?.amount ?? input.amount ?? 0n).toString(),
    // A priced commit is the same request whatever the price: a repeat answers the first result.
    request_hash: priced
      ? requestHash({ usage: input.usage, metadata: input.metadata })
      : requestHash({ amount: input.amount, metadata: input.metadata }),
    metadata: withUsageFacts(input.metadata, { ...requestFacts(actor, { ...callFactsOf(input), ...request }), ...priced?.facts }),
    ...opActor(actor),
    ...(idempotency && { idempotency_key: idempotency.key, idempotency_hash: idempotency.hash }),
  };
  return commitDto(await runOp(ctx, orgId, op, reservationAccounts.get(reservationId) ?? reservationId));
}

export async function releaseReservation(
  ctx: LedgerContext,
  orgId: string,
  reservationId: string,
  actor: Actor,
  idempotency?: Idempotency,
  request?: RequestInfo,
): Promise<ReleaseDto> {
  checkReservationId(reservationId);
  const op: ReleaseOp = {
    type: 'release',
    reservation_id: reservationId,
    ...opActor(actor),
    ...(idempotency && { idempotency_key: idempotency.key, idempotency_hash: idempotency.hash }),
  };
  const released = releaseDto(await runOp(ctx, orgId, op, reservationAccounts.get(reservationId) ?? reservationId));
  if (request) await recordReleasedRequest(ctx, orgId, reservationId, requestFacts(actor, request));
  return released;
}

function eventTime(event: UsageEventInput, now: Date): string | undefined {
  if (!event.timestamp) return undefined;
  const at = new Date(event.timestamp);
  const oldest = now.getTime() - MAX_BACKFILL_DAYS * 86_400_000;
  if (at.getTime() < oldest) {
    throw new AppError('validation_failed', `timestamp may be at most ${MAX_BACKFILL_DAYS} days in the past`, {
      field: 'timestamp',
    });
  }
  if (at.getTime() > now.getTime() + 5 * 60_000) {
    throw new AppError('validation_failed', 'timestamp may not be in the future', { field: 'timestamp' });
  }
  return at.toISOString();
}

async function usageOp(
  ctx: LedgerContext,
  orgId: string,
  event: UsageEventInput,
  actor: Actor,
  request?: RequestInfo,
  pricedFacts?: UsageFacts,
): Promise<UsageOp> {
  const member = await resolveMember(ctx, orgId, event.user);
  const now = ctx.now?.() ?? new Date();
  const occurredAt = eventTime(event, now);
  const priced =
    event.amount === undefined ? await pricedUsage(ctx, orgId, eventUsage(event), occurredAt ? new Date(occurredAt) : now) : undefined;
  const { id: _id, metadata: _metadata, ...content } = event;
  return {
    type: 'usage',
    event_id: event.id,
    account_id: member.accountId,
    membership_id: member.membershipId,
    amount: (priced?.amount ?? event.amount ?? 0n).toString(),
    occurred_at: occurredAt,
    // For an amount event: user, amount, timestamp and metadata, as always; a model event adds its usage.
    request_hash: requestHash({ ...content, metadata: event.metadata }),
    metadata: withUsageFacts(event.metadata, { ...requestFacts(actor, { ...callFactsOf(event), ...request }), ...(priced?.facts ?? pricedFacts) }),
    ...(await poolFallback(ctx, orgId, member)),
    ...opActor(actor),
  };
}

/**
 * One usage event, charged at once; a repeated event id is charged once. `pricedFacts`: for an amount that was
 * priced from usage elsewhere (the proxy's quote), the model, tokens and price versions its record names.
 */
export async function recordUsage(
  ctx: LedgerContext,
  orgId: string,
  event: UsageEventInput,
  actor: Actor,
  idempotency?: Idempotency,
  request?: RequestInfo,
  pricedFacts?: UsageFacts,
): Promise<UsageResultDto> {
  const op = await usageOp(ctx, orgId, event, actor, request, pricedFacts);
  if (idempotency) Object.assign(op, { idempotency_key: idempotency.key, idempotency_hash: idempotency.hash });
  const result = await runOp(ctx, orgId, op, op.account_id);
  if (!result.ok) throw toAppError(result);
  return usageDto(event.id, result);
}

export const MAX_BATCH_EVENTS = 1000;

/**
 * Up to 1000 events in a few database statements (usage-batch.ts); the answer is per event (charged, duplicate
 * or rejected with the reason). Events that name an unknown user or a bad timestamp are rejected alone; with
 * an idempotency key their refusals are stored with the rest of the answer, so a repeat answers the same.
 */
export async function recordUsageBatch(
  ctx: LedgerContext,
  orgId: string,
  events: UsageEventInput[],
  actor: Actor,
  idempotency?: Idempotency,
): Promise<UsageResultDto[]> {
  // One query for the members and one for their policies instead of one per event.
  const members = await resolveMembers(ctx, orgId, [...new Set(events.map((e) => e.user))]);
  await preloadMemberPolicies(ctx, [...members.values()].map((m) => m.membershipId));
  const prepared = await Promise.all(
    events.map(async (event): Promise<BatchEvent> => {
      try {
        return { id: event.id, user: event.user, op: await usageOp(ctx, orgId, event, actor) };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const rejected: LedgerFailure = { ok: false, http_status: err.status, code: err.code, message: err.message, ...(err.details && { details: err.details }) };
        return { id: event.id, user: event.user, rejected };
      }
    }),
  );
  const results = await applyUsageBatch(ctx, orgId, prepared, idempotency);
  return results.map((result, i) => usageDto(events[i].id, result));
}
