/**
 * Reading one reservation of an org: its state as the API shows it. A reservation of another org, or an id
 * that is not a uuid, is "not found". An active reservation whose time has passed shows as expired even before
 * a sweep resolves it, because it can no longer be committed; the database clock decides.
 */
import { z } from 'zod';
import { AppError } from '../http/errors.ts';
import type { LedgerContext } from './context.ts';
import { credits } from './results.ts';
import { withoutUsageFacts } from '../usage/carrier.ts';

export type ReservationStatus = 'active' | 'committed' | 'released' | 'expired';

export type ReservationStateDto = {
  id: string;
  status: ReservationStatus;
  user: string | null;
  funded_by: 'user' | 'pool';
  amount: string;
  /** What the commit charged; null until committed. */
  charged: string | null;
  /** What went back to the lots: the unused part of a commit, or all of a release or an expiry. */
  released: string | null;
  transaction_id: string | null;
  metadata: unknown;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
};

const reservationIdSchema = z.uuid();

function iso(value: unknown): string {
  return new Date(value as string | Date).toISOString();
}

export async function getReservation(
  ctx: LedgerContext,
  orgId: string,
  reservationId: string,
): Promise<ReservationStateDto> {
  if (!reservationIdSchema.safeParse(reservationId).success) throw new AppError('not_found', 'Reservation not found');
  // A plain read: the status is decided by the row and the clock of this one statement.
  const rows = await ctx.run(
    `SELECT r.id, r.status::text AS status, r.amount::text AS amount, r.charged::text AS charged,
            r.transaction_id, r.metadata, r.created_at, r.expires_at, r.resolved_at,
            a.kind::text AS account_kind, m.user_id,
            (r.status = 'active' AND r.expires_at <= coalesce($3::timestamptz, now())) AS lapsed
       FROM reservations r
       JOIN ledger_accounts a ON a.id = r.account_id
       LEFT JOIN memberships m ON m.id = r.membership_id
      WHERE r.id = $1::uuid AND r.org_id = $2::uuid`,
    [reservationId, orgId, ctx.now?.().toISOString() ?? null],
  );
  const row = rows[0];
  if (!row) throw new AppError('not_found', 'Reservation not found');
  const status = (row.lapsed ? 'expired' : row.status) as ReservationStatus;
  const amount = BigInt(row.amount as string);
  const charged = row.charged === null ? null : BigInt(row.charged as string);
  let released: bigint | null = null;
  if (status === 'committed' && charged !== null) released = amount > charged ? amount - charged : 0n;
  else if (status === 'released' || status === 'expired') released = amount;
  const metadata = typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata;
  return {
    id: row.id as string,
    status,
    user: (row.user_id as string | null) ?? null,
    funded_by: row.account_kind === 'pool' ? 'pool' : 'user',
    amount: credits(amount),
    charged: charged === null ? null : credits(charged),
    released: released === null ? null : credits(released),
    transaction_id: (row.transaction_id as string | null) ?? null,
    metadata: withoutUsageFacts(metadata),
    created_at: iso(row.created_at),
    expires_at: iso(row.expires_at),
    resolved_at: row.resolved_at ? iso(row.resolved_at) : null,
  };
}
