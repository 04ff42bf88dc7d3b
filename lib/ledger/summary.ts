/**
 * Org-wide figures of the ledger for the dashboard: the pool, what is allocated to members, how much was
 * consumed lately, and each member's allocation. Read-only; amounts are bigint micro-credits. Balances are the
 * accounts' projections, which the sweep job brings up to date within seconds of a lot or hold expiring.
 */
import type { LedgerContext } from './context.ts';

export const CONSUMPTION_WINDOW_DAYS = 30;

export type LedgerSummary = {
  pool: { balance: bigint; held: bigint; debt: bigint; available: bigint };
  members: { balance: bigint; held: bigint; debt: bigint; available: bigint; withCredits: number };
  /** Charged to members and the pool in the last CONSUMPTION_WINDOW_DAYS days. */
  consumed: bigint;
  /** Whether the org's journal has any transaction at all. */
  hasActivity: boolean;
};

/**
 * One statement, so every figure comes from the same snapshot: a concurrent allocation is either wholly in
 * the pool or wholly with the member, never counted twice or missed. Nothing is locked or written.
 *
 * Consumption is counted by when the usage happened (occurred_at). A transaction is recorded at or after the
 * usage it charges, so `created_at >= cutoff` loses nothing and lets the (org_id, created_at) index bound the
 * scan.
 */
export async function getLedgerSummary(ctx: LedgerContext, orgId: string): Promise<LedgerSummary> {
  const now = ctx.now?.() ?? null;
  const rows = await ctx.run(
    `WITH cutoff AS (SELECT coalesce($2::timestamptz, now()) - make_interval(days => $3) AS at)
     SELECT coalesce(sum(a.balance) FILTER (WHERE a.kind = 'pool'), 0)::text AS pool_balance,
            coalesce(sum(a.held) FILTER (WHERE a.kind = 'pool'), 0)::text AS pool_held,
            coalesce(sum(a.debt) FILTER (WHERE a.kind = 'pool'), 0)::text AS pool_debt,
            coalesce(sum(a.balance) FILTER (WHERE a.kind = 'user'), 0)::text AS members_balance,
            coalesce(sum(a.held) FILTER (WHERE a.kind = 'user'), 0)::text AS members_held,
            coalesce(sum(a.debt) FILTER (WHERE a.kind = 'user'), 0)::text AS members_debt,
            count(*) FILTER (WHERE a.kind = 'user' AND a.membership_id IS NOT NULL AND a.balance > 0)::int
              AS members_with_credits,
            (SELECT coalesce(sum(e.amount), 0)::text
               FROM ledger_transactions t
               JOIN ledger_entries e ON e.transaction_id = t.id
               JOIN ledger_accounts c ON c.id = e.account_id AND c.kind = 'consumption'
              WHERE t.org_id = $1::uuid AND t.kind = 'charge'
                AND t.created_at >= (SELECT at FROM cutoff) AND t.occurred_at >= (SELECT at FROM cutoff)) AS consumed,
            EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.org_id = $1::uuid) AS has_activity
       FROM ledger_accounts a
      WHERE a.org_id = $1::uuid AND a.kind IN ('pool', 'user')`,
    [orgId, now ? now.toISOString() : null, CONSUMPTION_WINDOW_DAYS],
  );
  const row = rows[0] ?? {};
  const big = (key: string) => BigInt((row[key] as string | undefined) ?? '0');
  const pool = { balance: big('pool_balance'), held: big('pool_held'), debt: big('pool_debt') };
  const members = { balance: big('members_balance'), held: big('members_held'), debt: big('members_debt') };
  return {
    pool: { ...pool, available: pool.balance - pool.held },
    members: { ...members, available: members.balance - members.held, withCredits: Number(row.members_with_credits ?? 0) },
    consumed: big('consumed'),
    hasActivity: row.has_activity === true,
  };
}

export type MemberBalance = { balance: bigint; held: bigint; debt: bigint; available: bigint };

/** Each current member's allocation, by membership id; members without an account yet are absent. */
export async function listMemberBalances(ctx: LedgerContext, orgId: string): Promise<Map<string, MemberBalance>> {
  const accounts = await ctx.db.ledgerAccount.findMany({
    where: { orgId, kind: 'user', membershipId: { not: null } },
    select: { membershipId: true, balance: true, held: true, debt: true },
  });
  return new Map(
    accounts.map((a) => [
      a.membershipId as string,
      { balance: a.balance, held: a.held, debt: a.debt, available: a.balance - a.held },
    ]),
  );
}
