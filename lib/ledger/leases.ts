/**
 * Leases: one hold of a member's own credits for many requests, charged in parts (see the hold_leases
 * migration). A metering process that serves many requests of one member (the proxy) takes a lease once and
 * answers requests from it without the database: exact all the same, since what the lease holds is held in
 * the ledger (nobody else can spend it) and the process never promises more than it holds. It then captures
 * the requests' charges in batches, each a charge transaction with its receipt and usage record, exactly as a
 * commit of a hold of its own; and releases what is left when it is done with the lease.
 *
 * Concurrency: both operations go through ledger_apply like every other, which locks the member's account
 * (and the capture the lease's row) before anything is read; a capture names each request by the id of its
 * usage record, so a repeated capture (a retry after a lost answer, a replay of a journal) charges nothing
 * twice.
 */
import type { Actor } from '../auth/actor.ts';
import { AppError } from '../http/errors.ts';
import type { CaptureCharge, CaptureOp, LeaseOp } from './apply.ts';
import { opActor } from './apply.ts';
import { resolveMember, type MemberAccount } from './accounts.ts';
import { runOp, type LedgerContext } from './context.ts';
import { toAppError } from './results.ts';
import type { UsageFacts } from '../usage/carrier.ts';

export type Lease = {
  id: string;
  member: MemberAccount;
  amount: bigint;
  /** What the member had available once the lease was taken (the lease excluded). */
  available: bigint;
  expiresAt: Date;
};

/**
 * Takes a lease of at most `amount` and at least `minAmount` micro-credits of the member's own credits (never
 * more than half of what they have available when that is more than `minAmount`); AppError
 * insufficient_credits when not even `minAmount` is available.
 */
export async function openLease(
  ctx: LedgerContext,
  orgId: string,
  user: string,
  input: { id: string; amount: bigint; minAmount: bigint; ttlSeconds: number; metadata?: Record<string, unknown> },
  actor: Actor,
): Promise<Lease> {
  if (input.minAmount <= 0n || input.minAmount > input.amount) throw new AppError('validation_failed', 'A lease needs 0 < minimum <= amount');
  const member = await resolveMember(ctx, orgId, user);
  const op: LeaseOp = {
    type: 'lease',
    id: input.id,
    account_id: member.accountId,
    membership_id: member.membershipId,
    amount: input.amount.toString(),
    min_amount: input.minAmount.toString(),
    ttl_seconds: input.ttlSeconds,
    metadata: input.metadata ?? {},
    ...opActor(actor),
  };
  const result = await runOp(ctx, orgId, op, member.accountId);
  if (!result.ok) throw toAppError(result);
  const balance = result.balance as { available: string };
  return {
    id: input.id,
    member,
    amount: BigInt(result.amount as string),
    available: BigInt(balance.available),
    expiresAt: new Date(result.expires_at as string),
  };
}

/** One request to charge from a lease: its usage record's id, its charge and what its record says. */
export type LeaseCharge = {
  id: string;
  amount: bigint;
  /** At most this much of the charge is taken from the lease (the rest of it is promised to other requests). */
  fromHold?: bigint;
  facts: UsageFacts;
  metadata?: Record<string, unknown>;
  occurredAt?: Date;
  /** Who made the request (the charge's transaction names them); else the capture's actor. */
  actor?: Actor;
};

export type CaptureOutcome =
  | { id: string; ok: true; status: 'captured' | 'duplicate'; charged: bigint; transactionId: string | null }
  | { id: string; ok: false; error: AppError };

export type Capture = {
  /** What the lease still holds. */
  amount: bigint;
  /** What the member has available now. */
  available: bigint;
  /** One outcome per charge, in the order given. */
  charges: CaptureOutcome[];
};

/**
 * Charges requests from the lease `reservationId` of the member with account `accountId` (when known: it
 * joins the account's batches), then gives `giveBack` of what it still holds back to the member. Throws an
 * AppError when the lease cannot be captured at all (unknown, released, expired); a charge refused on its own
 * (commit_exceeds_available: it exceeds what the lease and the member's credits cover) is an outcome.
 */
export async function captureLease(
  ctx: LedgerContext,
  orgId: string,
  reservationId: string,
  accountId: string | null,
  charges: LeaseCharge[],
  actor: Actor,
  giveBack?: bigint,
): Promise<Capture> {
  const op: CaptureOp = {
    type: 'capture',
    reservation_id: reservationId,
    ...(accountId && { account_id: accountId }),
    ...(giveBack !== undefined && giveBack > 0n && { give_back: giveBack.toString() }),
    charges: charges.map(
      (c): CaptureCharge => ({
        id: c.id,
        amount: c.amount.toString(),
        ...(c.fromHold !== undefined && { from_hold: c.fromHold.toString() }),
        ...(c.actor && opActor(c.actor)),
        usage: c.facts,
        ...(c.metadata && { metadata: c.metadata }),
        ...(c.occurredAt && { occurred_at: c.occurredAt.toISOString() }),
      }),
    ),
    ...opActor(actor),
  };
  const result = await runOp(ctx, orgId, op, accountId ?? reservationId);
  if (!result.ok) throw toAppError(result);
  type Answer = { id: string; ok: boolean; status?: 'captured' | 'duplicate'; charged?: string; transaction_id?: string | null; code?: string; message?: string };
  const answers = new Map((result.charges as Answer[]).map((a) => [a.id, a]));
  return {
    amount: BigInt(result.amount as string),
    available: BigInt((result.balance as { available: string }).available),
    charges: charges.map((c): CaptureOutcome => {
      const a = answers.get(c.id)!;
      if (!a.ok) return { id: c.id, ok: false, error: toAppError({ ok: false, http_status: 409, code: a.code!, message: a.message! }) };
      return { id: c.id, ok: true, status: a.status!, charged: BigInt(a.charged!), transactionId: a.transaction_id ?? null };
    }),
  };
}
