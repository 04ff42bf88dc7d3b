/**
 * Usage batches in the database. ledger_usage_batch charges a batch set-based: a few statements for the whole
 * batch, each account and lot written once, every account of the batch locked (in id order) for the whole
 * transaction.
 *
 * A batch need not be one transaction: each event is answered, deduplicated and charged on its own. A large
 * batch is split into lanes, run as separate transactions at the same time. Two batches naming the same
 * accounts (the usual case: one backend's users, batch after batch) would otherwise wait on each other's
 * account locks and use one core of the database between them; by lanes, the part of one batch on some
 * accounts runs while another batch works on the others. An event id repeated for different members keeps the
 * batch whole (the first occurrence must win).
 *
 * Without an idempotency key, lanes are by account: every event of an account stays in one lane, in the
 * batch's order, so which of an account's events fit its credits is decided exactly as in one call. Should
 * one lane fail (the database connection lost, say), the others' events are still answered as charged and the
 * failed lane's as `unavailable`, to be sent again.
 *
 * With a key, every lane stores its answer under a key of its own (the batch's key and the lane) in the
 * transaction that charged it, refusals of the server included, so that a repeat of the batch is answered
 * exactly as the first time. Lanes are then by the user reference as sent, fixed by the request's body alone,
 * so a repeat splits the same way and finds each lane's answer (a member named both by id and by external id
 * may then be in two lanes). A lane that fails fails the request: its repeat (the client retries with the same
 * key) finds the other lanes' answers and runs the rest.
 */
import type { LedgerFailure, LedgerResult, UsageOp } from './apply.ts';
import { laneOf } from './coalescer.ts';
import type { LedgerContext } from './context.ts';
import { toAppError } from './results.ts';
import { withTransientRetry } from '../db/retry.ts';
import { AppError } from '../http/errors.ts';
import { logger } from '../http/logger.ts';

export type BatchIdempotency = { key: string; hash: string };

/** One event of a batch for the ledger: to charge, or refused already by the server with this answer. */
export type BatchEvent = { id: string; user: string } & ({ op: UsageOp } | { rejected: LedgerFailure });

type LedgerItem = UsageOp | { rejected: LedgerFailure };

/** Lanes a batch is split into, at most. */
export const USAGE_BATCH_LANES = 4;
/** A lane is worth its own transaction from this many events. */
const MIN_EVENTS_PER_LANE = 100;

async function runBatch(ctx: LedgerContext, orgId: string, items: LedgerItem[], idempotency?: BatchIdempotency): Promise<LedgerResult[]> {
  const params = [orgId, JSON.stringify(items), ctx.now?.().toISOString() ?? null, idempotency?.key ?? null, idempotency?.hash ?? null];
  const rows = await withTransientRetry(() =>
    ctx.run('SELECT ledger_usage_batch($1::uuid, $2::jsonb, $3::timestamptz, $4, $5) AS results', params),
  );
  const raw = rows[0].results;
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as LedgerResult[] | LedgerResult;
  // A whole-batch answer (idempotency_mismatch) comes back as one result instead of a list.
  if (!Array.isArray(parsed)) throw toAppError(parsed as LedgerFailure);
  return parsed;
}

/**
 * How many lanes a batch may be split into, given each event's id and the key of the lane it belongs to: 1
 * when an event id is repeated under different lane keys.
 */
export function usageBatchLanes(events: Array<{ id: string; lane: string }>): number {
  const lanes = Math.min(USAGE_BATCH_LANES, Math.floor(events.length / MIN_EVENTS_PER_LANE));
  if (lanes <= 1) return 1;
  const laneKeyOf = new Map<string, string>();
  for (const event of events) {
    const seen = laneKeyOf.get(event.id);
    if (seen !== undefined && seen !== event.lane) return 1;
    laneKeyOf.set(event.id, event.lane);
  }
  return lanes;
}

/** The key a lane of a keyed batch stores its answer under. (A client's key is printable ASCII: no clash.) */
function laneKey(idempotency: BatchIdempotency, lane: number, lanes: number): BatchIdempotency {
  return { key: `${idempotency.key}\u001flane ${lane + 1}/${lanes}`, hash: idempotency.hash };
}

/**
 * Refuses a key stored for another request, under any way of splitting a batch (another body may have been
 * split into another number of lanes, whose keys the ledger would not look up).
 */
async function refuseReusedKey(ctx: LedgerContext, orgId: string, idempotency: BatchIdempotency): Promise<void> {
  const keys = [idempotency.key];
  for (let lanes = 2; lanes <= USAGE_BATCH_LANES; lanes++) for (let lane = 0; lane < lanes; lane++) keys.push(laneKey(idempotency, lane, lanes).key);
  const rows = await ctx.run('SELECT 1 FROM idempotency_keys WHERE org_id = $1::uuid AND key = ANY($2::text[]) AND request_hash <> $3 LIMIT 1', [orgId, keys, idempotency.hash]);
  if (rows.length > 0) throw new AppError('idempotency_mismatch', 'This Idempotency-Key was used with a different request');
}

/** Runs the lanes at once; each answer lands in its events' places. */
async function runLanes(groups: Array<{ items: LedgerItem[]; at: number[] }>, results: LedgerResult[], run: (items: LedgerItem[], lane: number) => Promise<LedgerResult[]>) {
  const settled = await Promise.allSettled(
    groups.map(async (group, lane) => {
      if (group.items.length === 0) return;
      const answered = await run(group.items, lane);
      answered.forEach((result, j) => (results[group.at[j]] = result));
    }),
  );
  return settled.flatMap((s, lane) => (s.status === 'rejected' ? [{ lane, reason: s.reason as unknown }] : []));
}

function split(items: LedgerItem[], laneKeys: string[], lanes: number) {
  const groups = Array.from({ length: lanes }, () => ({ items: [] as LedgerItem[], at: [] as number[] }));
  items.forEach((item, i) => {
    const group = groups[laneOf(laneKeys[i], lanes)];
    group.items.push(item);
    group.at.push(i);
  });
  return groups;
}

/** Charges the events and answers each, in their order. */
export async function applyUsageBatch(
  ctx: LedgerContext,
  orgId: string,
  events: BatchEvent[],
  idempotency?: BatchIdempotency,
): Promise<LedgerResult[]> {
  if (events.length === 0) return [];
  const results: LedgerResult[] = new Array(events.length);

  if (idempotency) {
    await refuseReusedKey(ctx, orgId, idempotency);
    const items = events.map((e): LedgerItem => ('op' in e ? e.op : { rejected: e.rejected }));
    const lanes = usageBatchLanes(events.map((e) => ({ id: e.id, lane: e.user })));
    if (lanes === 1) return runBatch(ctx, orgId, items, idempotency);
    const failed = await runLanes(
      split(items, events.map((e) => e.user), lanes),
      results,
      (laneItems, lane) => runBatch(ctx, orgId, laneItems, laneKey(idempotency, lane, lanes)),
    );
    if (failed.length > 0) throw failed[0].reason;
    return results;
  }

  // Without a key, refusals are answered here and the events to charge go to the ledger, by account.
  const ops: UsageOp[] = [];
  const at: number[] = [];
  events.forEach((e, i) => {
    if ('op' in e) {
      ops.push(e.op);
      at.push(i);
    } else results[i] = e.rejected;
  });
  if (ops.length === 0) return results;
  const lanes = usageBatchLanes(ops.map((op) => ({ id: op.event_id, lane: op.account_id })));
  const answered: LedgerResult[] = new Array(ops.length);
  if (lanes === 1) (await runBatch(ctx, orgId, ops)).forEach((r, j) => (answered[j] = r));
  else {
    const groups = split(ops, ops.map((op) => op.account_id), lanes);
    const failed = await runLanes(groups, answered, (laneItems) => runBatch(ctx, orgId, laneItems));
    // Every lane failed: so did the batch. Otherwise the other lanes' events are charged and answered so; the
    // failed lanes' events are answered `unavailable`, and sending them again charges each once (their ids
    // deduplicate them, should a lane's transaction have committed after all).
    if (failed.length === groups.filter((g) => g.items.length > 0).length) throw failed[0].reason;
    for (const { lane, reason } of failed) {
      logger.error({ err: reason, event: 'ledger.usage_lane_failed', orgId, events: groups[lane].items.length }, 'part of a usage batch could not be recorded');
      for (const j of groups[lane].at) answered[j] = LANE_UNAVAILABLE;
    }
  }
  answered.forEach((r, j) => (results[at[j]] = r));
  return results;
}

const LANE_UNAVAILABLE: LedgerFailure = {
  ok: false,
  http_status: 503,
  code: 'unavailable',
  message: 'This event could not be recorded now; send it again with the same id (it is never charged twice)',
};
