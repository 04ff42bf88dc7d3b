/**
 * Credits entering an org (grants: promotional and manual credits, purchases) and moving inside it
 * (allocation from the pool to a member, reclaim back, transfers between members and the pool). Every call is
 * one ledger operation; the moved credits keep the expiry and priority of the lots they came from.
 */
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { AppError } from '../http/errors.ts';
import { positiveCreditsSchema } from '../money/credits.ts';
import type { AccountState, GrantOp, LedgerResult, MoveOp } from './apply.ts';
import { opActor } from './apply.ts';
import { ensureOrgLedger, resolveMember } from './accounts.ts';
import { runOp, type LedgerContext } from './context.ts';
import type { Idempotency } from './metering.ts';
import { balanceDto, credits, unwrap, type BalanceDto } from './results.ts';

export const grantInputSchema = z.object({
  user: z.string().trim().min(1).max(200).optional(),
  amount: positiveCreditsSchema,
  expires_at: z.iso.datetime({ offset: true }).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  reason: z.string().trim().min(1, 'reason is required').max(500),
  source: z.enum(['promotion', 'adjustment']).optional(),
});
export type GrantInput = z.infer<typeof grantInputSchema>;

export const allocationInputSchema = z.object({
  user: z.string().trim().min(1).max(200),
  amount: positiveCreditsSchema,
});
export type AllocationInput = z.infer<typeof allocationInputSchema>;

export const transferInputSchema = z
  .object({
    from_user: z.string().trim().min(1).max(200).optional(),
    to_user: z.string().trim().min(1).max(200).optional(),
    amount: positiveCreditsSchema,
    reason: z.string().trim().max(500).optional(),
  })
  .refine((v) => v.from_user !== undefined || v.to_user !== undefined, {
    message: 'name from_user, to_user or both (an absent side is the org pool)',
  });
export type TransferInput = z.infer<typeof transferInputSchema>;

function idem(idempotency?: Idempotency) {
  return idempotency ? { idempotency_key: idempotency.key, idempotency_hash: idempotency.hash } : {};
}

export type GrantDto = {
  transaction_id: string;
  lot_id: string;
  user: string | null;
  amount: string;
  expires_at: string | null;
  balance: BalanceDto;
};

function grantDto(r: LedgerResult, user: string | null): GrantDto {
  const ok = unwrap(r);
  return {
    transaction_id: ok.transaction_id as string,
    lot_id: ok.lot_id as string,
    user,
    amount: credits(ok.amount as string),
    expires_at: ok.expires_at ? new Date(ok.expires_at as string).toISOString() : null,
    balance: balanceDto(ok.balance as AccountState),
  };
}

/** Promotional or manual credits into the pool (no user) or straight to a member. */
export async function grantCredits(
  ctx: LedgerContext,
  orgId: string,
  input: GrantInput,
  actor: Actor,
  idempotency?: Idempotency,
): Promise<GrantDto> {
  const pool = await ensureOrgLedger(ctx, orgId);
  const member = input.user ? await resolveMember(ctx, orgId, input.user) : null;
  const accountId = member?.accountId ?? pool;
  const op: GrantOp = {
    type: 'grant',
    account_id: accountId,
    amount: input.amount.toString(),
    source: input.source ?? 'promotion',
    priority: input.priority ?? 0,
    expires_at: input.expires_at ?? null,
    memo: input.reason,
    ...opActor(actor),
    ...idem(idempotency),
  };
  return grantDto(await runOp(ctx, orgId, op, accountId), member?.userId ?? null);
}

/** Purchased credits into the pool (the billing module calls this when a payment succeeds). */
export async function addPurchasedCredits(
  ctx: LedgerContext,
  orgId: string,
  input: { amount: bigint; expiresAt?: Date | null; reference: string; metadata?: Record<string, unknown> },
  actor: Actor,
): Promise<GrantDto> {
  const pool = await ensureOrgLedger(ctx, orgId);
  const op: GrantOp = {
    type: 'grant',
    account_id: pool,
    amount: input.amount.toString(),
    source: 'purchase',
    expires_at: input.expiresAt?.toISOString() ?? null,
    memo: `Purchase ${input.reference}`,
    metadata: input.metadata,
    ...opActor(actor),
    idempotency_key: `purchase:${input.reference}`,
    idempotency_hash: input.amount.toString(),
  };
  return grantDto(await runOp(ctx, orgId, op, pool), null);
}

export type MoveDto = {
  transaction_id: string;
  kind: MoveOp['kind'];
  from_user: string | null;
  to_user: string | null;
  amount: string;
  from_balance: BalanceDto;
  to_balance: BalanceDto;
};

async function move(
  ctx: LedgerContext,
  orgId: string,
  kind: MoveOp['kind'],
  from: string | undefined,
  to: string | undefined,
  amount: bigint,
  memo: string | undefined,
  actor: Actor,
  idempotency?: Idempotency,
): Promise<MoveDto> {
  const pool = await ensureOrgLedger(ctx, orgId);
  const fromMember = from ? await resolveMember(ctx, orgId, from) : null;
  const toMember = to ? await resolveMember(ctx, orgId, to) : null;
  const fromAccount = fromMember?.accountId ?? pool;
  const toAccount = toMember?.accountId ?? pool;
  if (fromAccount === toAccount) throw new AppError('validation_failed', 'Source and destination are the same');
  const op: MoveOp = {
    type: 'move',
    kind,
    from_account_id: fromAccount,
    to_account_id: toAccount,
    amount: amount.toString(),
    memo: memo ?? null,
    // A transfer's audit entry is written by the transaction that moves the credits.
    ...(kind === 'transfer' && {
      audit: {
        action: 'credits.transferred',
        data: { from: fromMember?.userId ?? 'pool', to: toMember?.userId ?? 'pool', amount: credits(amount) },
      },
    }),
    ...opActor(actor),
    ...idem(idempotency),
  };
  const ok = unwrap(await runOp(ctx, orgId, op, fromAccount));
  return {
    transaction_id: ok.transaction_id as string,
    kind,
    from_user: fromMember?.userId ?? null,
    to_user: toMember?.userId ?? null,
    amount: credits(ok.amount as string),
    from_balance: balanceDto(ok.from as AccountState),
    to_balance: balanceDto(ok.to as AccountState),
  };
}

/** Pool -> member. */
export function allocateCredits(
  ctx: LedgerContext,
  orgId: string,
  input: AllocationInput,
  actor: Actor,
  idempotency?: Idempotency,
): Promise<MoveDto> {
  return move(ctx, orgId, 'allocation', undefined, input.user, input.amount, 'Allocation', actor, idempotency);
}

/** Member -> pool: takes back unused allocation (at most what is available, holds untouched). */
export function reclaimCredits(
  ctx: LedgerContext,
  orgId: string,
  input: AllocationInput,
  actor: Actor,
  idempotency?: Idempotency,
): Promise<MoveDto> {
  return move(ctx, orgId, 'reclaim', input.user, undefined, input.amount, 'Reclaimed allocation', actor, idempotency);
}

/** Between members, or a member and the pool (an absent side is the pool); audited. */
export function transferCredits(
  ctx: LedgerContext,
  orgId: string,
  input: TransferInput,
  actor: Actor,
  idempotency?: Idempotency,
): Promise<MoveDto> {
  return move(ctx, orgId, 'transfer', input.from_user, input.to_user, input.amount, input.reason ?? 'Transfer', actor, idempotency);
}
