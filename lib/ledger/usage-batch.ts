/**
 * Usage batches in the database. ledger_usage_batch charges a batch set-based: a few statements for the whole
 * batch, each account and lot written once, every account of the batch locked (in id order) for the whole
 * transaction. With an idempotency key, a repeat of the same batch returns the first answer, stored in the
 * same transaction, so such a batch is always one call.
 *
 * Without a key, a batch need not be one transaction: each event is answered, deduplicated and charged on its
 * own. A large batch is then split by account into lanes, run as separate transactions at the same time. Two
 * batches naming the same accounts (the usual case: one backend's users, batch after batch) would otherwise
 * wait on each other's account locks and use one core of the database between them; by lanes, the part of one
 * batch on some accounts runs while another batch works on the others. Every event of an account stays in one
 * lane, in the batch's order, so which of an account's events fit its credits is decided exactly as in one
 * call. An event id repeated for different accounts keeps the batch whole (the first occurrence must win).
 * Should one lane fail (the database connection lost, say), the others' events are still answered as charged.
 */
import type { LedgerResult, UsageOp } from './apply.ts';
import { laneOf } from './coalescer.ts';
import type { LedgerContext } from './context.ts';
import { toAppError } from './results.ts';
import { withTransientRetry } from '../db/retry.ts';
import { logger } from '../http/logger.ts';

export type BatchIdempotency = { key: string; hash: string };

/** Lanes a batch without an idempotency key is split into, at most. */
export const USAGE_BATCH_LANES = 4;
/** A lane is worth its own transaction from this many events. */
const MIN_EVENTS_PER_LANE = 100;

async function runBatch(ctx: LedgerContext, orgId: string, ops: UsageOp[], idempotency?: BatchIdempotency): Promise<LedgerResult[]> {
  const params = [orgId, JSON.stringify(ops), ctx.now?.().toISOString() ?? null, idempotency?.key ?? null, idempotency?.hash ?? null];
  const rows = await withTransientRetry(() =>
    ctx.run('SELECT ledger_usage_batch($1::uuid, $2::jsonb, $3::timestamptz, $4, $5) AS results', params),
  );
  const raw = rows[0].results;
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as LedgerResult[] | LedgerResult;
  // A whole-batch answer (idempotency_mismatch) comes back as one result instead of a list.
  if (!Array.isArray(parsed)) throw toAppError(parsed as Extract<LedgerResult, { ok: false }>);
  return parsed;
}

/** How many lanes `ops` may be split into: 1 when an event id is repeated for different accounts. */
export function usageBatchLanes(ops: UsageOp[]): number {
  const lanes = Math.min(USAGE_BATCH_LANES, Math.floor(ops.length / MIN_EVENTS_PER_LANE));
  if (lanes <= 1) return 1;
  const accountOf = new Map<string, string>();
  for (const op of ops) {
    const seen = accountOf.get(op.event_id);
    if (seen !== undefined && seen !== op.account_id) return 1;
    accountOf.set(op.event_id, op.account_id);
  }
  return lanes;
}

/** Charges the events and answers each, in their order. */
export async function applyUsageBatch(
  ctx: LedgerContext,
  orgId: string,
  ops: UsageOp[],
  idempotency?: BatchIdempotency,
): Promise<LedgerResult[]> {
  if (ops.length === 0) return [];
  const lanes = idempotency ? 1 : usageBatchLanes(ops);
  if (lanes === 1) return runBatch(ctx, orgId, ops, idempotency);
  const groups = Array.from({ length: lanes }, () => ({ ops: [] as UsageOp[], at: [] as number[] }));
  ops.forEach((op, i) => {
    const group = groups[laneOf(op.account_id, lanes)];
    group.ops.push(op);
    group.at.push(i);
  });
  const results: LedgerResult[] = new Array(ops.length);
  const settled = await Promise.allSettled(
    groups.map(async (group) => {
      if (group.ops.length === 0) return;
      const answered = await runBatch(ctx, orgId, group.ops);
      answered.forEach((result, j) => (results[group.at[j]] = result));
    }),
  );
  const failed = settled.flatMap((s, lane) => (s.status === 'rejected' ? [{ lane, reason: s.reason as unknown }] : []));
  if (failed.length === 0) return results;
  // Every lane failed: so did the batch. Otherwise the other lanes' events are charged and are answered so;
  // the failed lanes' events are answered `unavailable`, and sending them again charges each once (their ids
  // deduplicate them, should a lane's transaction have committed after all).
  if (failed.length === groups.filter((g) => g.ops.length > 0).length) throw failed[0].reason;
  for (const { lane, reason } of failed) {
    logger.error({ err: reason, event: 'ledger.usage_lane_failed', orgId, events: groups[lane].ops.length }, 'part of a usage batch could not be recorded');
    for (const i of groups[lane].at) results[i] = LANE_UNAVAILABLE;
  }
  return results;
}

const LANE_UNAVAILABLE: LedgerResult = {
  ok: false,
  http_status: 503,
  code: 'unavailable',
  message: 'This event could not be recorded now; send it again with the same id (it is never charged twice)',
};
