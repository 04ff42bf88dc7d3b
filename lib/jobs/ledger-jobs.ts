/**
 * Background upkeep of the ledger. None of it is needed for correctness at the moment of spending (expired
 * holds and lots already stop counting when an account is next touched); these jobs make the stored state and
 * the dashboards catch up for accounts nobody touches, refill allocations monthly and drop old idempotency keys.
 * Each job is safe to run from several instances at once: sweeps and refills lock accounts in the database,
 * and a refill is recorded so it happens once per member and month.
 */
import { applyOps, type LedgerOp, type SqlRunner } from '../ledger/apply.ts';

/** Sweeps every account whose sweep time has come; returns how many were swept. */
export async function sweepDueAccounts(run: SqlRunner, options: { limit?: number; now?: Date } = {}): Promise<number> {
  const rows = await run(
    `SELECT org_id, array_agg(id::text) AS ids FROM (
       SELECT org_id, id FROM ledger_accounts
        WHERE sweep_at <= coalesce($2::timestamptz, now()) ORDER BY sweep_at LIMIT $1) due
     GROUP BY org_id`,
    [options.limit ?? 500, options.now?.toISOString() ?? null],
  );
  let swept = 0;
  for (const row of rows) {
    const ids = row.ids as string[];
    const ops: LedgerOp[] = ids.map((id) => ({ type: 'sweep', account_id: id }));
    await applyOps(run, row.org_id as string, ops, options.now);
    swept += ids.length;
  }
  return swept;
}

/** The month a refill belongs to, in UTC: "2026-11". */
export function refillPeriod(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/**
 * Tops every member of orgs with a monthly refill up to their refill amount from the pool, once per month.
 * A member already at or above it gets nothing; when the pool runs short the member is skipped and tried again
 * on the next run.
 */
export async function refillAllocations(run: SqlRunner, options: { now?: Date } = {}): Promise<number> {
  const now = options.now ?? new Date();
  const period = refillPeriod(now);
  const due = await run(
    `SELECT m.org_id, a.id AS account_id, m.id AS membership_id, pool.id AS pool_id,
            (coalesce(mp.monthly_refill_to, op.monthly_refill_to) - (a.balance - a.held))::text AS amount
       FROM memberships m
       JOIN org_policies op ON op.org_id = m.org_id
       LEFT JOIN member_policies mp ON mp.membership_id = m.id
       JOIN ledger_accounts a ON a.membership_id = m.id
       JOIN ledger_accounts pool ON pool.org_id = m.org_id AND pool.key = 'pool'
      WHERE coalesce(mp.monthly_refill_to, op.monthly_refill_to) IS NOT NULL
        AND coalesce(mp.monthly_refill_to, op.monthly_refill_to) > a.balance - a.held
        AND NOT EXISTS (
          SELECT 1 FROM ledger_transactions t
           WHERE t.org_id = m.org_id AND t.kind = 'allocation' AND t.metadata->>'refill_period' = $1
             AND t.metadata->>'membership_id' = m.id::text)
      LIMIT 1000`,
    [period],
  );
  let refilled = 0;
  for (const row of due) {
    const [result] = await applyOps(
      run,
      row.org_id as string,
      [
        {
          type: 'move',
          kind: 'allocation',
          from_account_id: row.pool_id as string,
          to_account_id: row.account_id as string,
          amount: row.amount as string,
          memo: `Monthly refill ${period}`,
          metadata: { refill_period: period, membership_id: row.membership_id },
          actor_type: 'system',
          actor_id: null,
          // One refill per member and month, even when two instances race.
          idempotency_key: `refill:${row.membership_id}:${period}`,
          idempotency_hash: `refill:${period}`,
        },
      ],
      options.now,
    );
    if (result.ok) refilled++;
    else await run(`DELETE FROM idempotency_keys WHERE org_id = $1::uuid AND key = $2`, [row.org_id, `refill:${row.membership_id}:${period}`]);
  }
  return refilled;
}

/** Drops idempotency keys past their retention (24 hours); returns how many. */
export async function purgeIdempotencyKeys(run: SqlRunner, options: { now?: Date } = {}): Promise<number> {
  const rows = await run(
    `WITH gone AS (DELETE FROM idempotency_keys WHERE expires_at < coalesce($1::timestamptz, now()) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [options.now?.toISOString() ?? null],
  );
  return rows[0].n as number;
}
