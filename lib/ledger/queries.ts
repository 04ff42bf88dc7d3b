/**
 * Reading the ledger: balances (the pool or a member), lots with their expiry, the journal page by page with
 * each charge's receipt (the lots that paid), and the invariant check.
 */
import { AppError } from '../http/errors.ts';
import { ensureOrgLedger, resolveMember } from './accounts.ts';
import type { LedgerContext } from './context.ts';
import { entriesOf } from './entries.ts';
import { credits } from './results.ts';
import { usageFactsOf, withoutUsageFacts } from '../usage/carrier.ts';

const EXPIRING_SOON_DAYS = 7;

export type AccountBalance = {
  user: string | null;
  available: string;
  reserved: string;
  total: string;
  debt: string;
  expiring_soon: { amount: string; within_days: number; next_expiry: string | null };
};

async function accountIdFor(ctx: LedgerContext, orgId: string, userRef?: string) {
  if (!userRef) return { accountId: await ensureOrgLedger(ctx, orgId), userId: null };
  const member = await resolveMember(ctx, orgId, userRef);
  return { accountId: member.accountId, userId: member.userId };
}

/**
 * The balance of the pool (no user) or of a member. Expired lots and holds are swept first, so what is shown
 * as available is exactly what a reservation could take now.
 */
export async function getBalance(ctx: LedgerContext, orgId: string, userRef?: string): Promise<AccountBalance> {
  const { accountId, userId } = await accountIdFor(ctx, orgId, userRef);
  const now = ctx.now?.() ?? null;
  const rows = await ctx.run(
    `WITH swept AS (
       SELECT ledger_apply($1::uuid, jsonb_build_array(jsonb_build_object('type', 'sweep', 'account_id', $2::text)),
                           $3::timestamptz) AS r
        WHERE EXISTS (SELECT 1 FROM ledger_accounts WHERE id = $2::uuid
                       AND sweep_at <= coalesce($3::timestamptz, now())))
     SELECT (SELECT count(*) FROM swept) AS swept, a.balance::text, a.held::text, a.debt::text,
            coalesce((SELECT sum(remaining) FROM credit_lots
                       WHERE account_id = a.id AND remaining > 0 AND expires_at IS NOT NULL
                         AND expires_at > coalesce($3::timestamptz, now())
                         AND expires_at <= coalesce($3::timestamptz, now()) + make_interval(days => $4)), 0)::text AS expiring,
            (SELECT min(expires_at) FROM credit_lots
              WHERE account_id = a.id AND remaining > 0 AND expires_at > coalesce($3::timestamptz, now())) AS next_expiry
       FROM ledger_accounts a WHERE a.id = $2::uuid`,
    [orgId, accountId, now ? now.toISOString() : null, EXPIRING_SOON_DAYS],
  );
  let row = rows[0];
  if (Number(row.swept) > 0) {
    // The sweep ran in the same statement; read the account again to show its result.
    row = (await ctx.run(`SELECT balance::text, held::text, debt::text, $2::text AS expiring, $3::timestamptz AS next_expiry
                            FROM ledger_accounts WHERE id = $1::uuid`, [accountId, row.expiring, row.next_expiry]))[0];
  }
  const balance = BigInt(row.balance as string);
  const held = BigInt(row.held as string);
  return {
    user: userId,
    available: credits(balance - held),
    reserved: credits(held),
    total: credits(balance),
    debt: credits(row.debt as string),
    expiring_soon: {
      amount: credits(row.expiring as string),
      within_days: EXPIRING_SOON_DAYS,
      next_expiry: row.next_expiry ? new Date(row.next_expiry as string).toISOString() : null,
    },
  };
}

export type LotDto = {
  id: string;
  source: string;
  amount: string;
  remaining: string;
  priority: number;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
};

export async function listLots(
  ctx: LedgerContext,
  orgId: string,
  options: { user?: string; includeSpent?: boolean } = {},
): Promise<LotDto[]> {
  const { accountId } = await accountIdFor(ctx, orgId, options.user);
  const now = ctx.now?.() ?? new Date();
  const lots = await ctx.db.creditLot.findMany({
    where: { orgId, accountId, ...(options.includeSpent ? {} : { remaining: { gt: 0 } }) },
    orderBy: [{ priority: 'desc' }, { expiresAt: { sort: 'asc', nulls: 'last' } }, { createdAt: 'asc' }],
    take: 500,
  });
  return lots.map((l) => ({
    id: l.id,
    source: l.source,
    amount: credits(l.amount),
    remaining: credits(l.remaining),
    priority: l.priority,
    created_at: l.createdAt.toISOString(),
    expires_at: l.expiresAt?.toISOString() ?? null,
    expired: l.expiresAt !== null && l.expiresAt <= now,
  }));
}

export type EntryDto = {
  account: string;
  user: string | null;
  amount: string;
  lot: { id: string; source: string; expires_at: string | null } | null;
};

export type TransactionDto = {
  id: string;
  kind: string;
  created_at: string;
  occurred_at: string;
  memo: string | null;
  reservation_id: string | null;
  usage_event_id: string | null;
  actor: { type: string; id: string | null };
  /** Net change of the requested account (the pool, or the user's allocation); null for the org-wide view. */
  amount: string | null;
  entries: EntryDto[];
  /** For charges: the lots that paid, and any part paid by overdraft. */
  receipt: { lot_id: string | null; source: string | null; amount: string; expires_at: string | null }[] | null;
  /** For charges of an LLM request that named its model: the model and its tokens. */
  usage: ChargeUsageDto | null;
  metadata: unknown;
};

export type ChargeUsageDto = {
  model: string;
  provider: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
};

function chargeUsage(metadata: unknown): ChargeUsageDto | null {
  const facts = usageFactsOf(metadata);
  if (!facts || typeof facts.model !== 'string') return null;
  const tokens = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
  return {
    model: facts.model,
    provider: typeof facts.provider === 'string' ? facts.provider : null,
    input_tokens: tokens(facts.input_tokens),
    output_tokens: tokens(facts.output_tokens),
    cached_input_tokens: tokens(facts.cached_input_tokens),
    reasoning_tokens: tokens(facts.reasoning_tokens),
  };
}

export type TransactionFilter = {
  user?: string;
  /** Only transactions that moved credits of the org pool (ignored when `user` is given). */
  pool?: boolean;
  kind?: string;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit?: number;
};

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
    const date = new Date(at);
    if (!id || Number.isNaN(date.getTime())) throw new Error('bad');
    return { at: date, id };
  } catch {
    throw new AppError('validation_failed', 'cursor is not valid', { field: 'cursor' });
  }
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

const TRANSACTION_KINDS = new Set([
  'grant', 'purchase', 'allocation', 'reclaim', 'transfer', 'charge', 'expiry', 'adjustment', 'refund', 'debt_settlement',
]);

/** The journal, newest first, `limit` transactions a page; `next_cursor` continues it. */
export async function listTransactions(
  ctx: LedgerContext,
  orgId: string,
  filter: TransactionFilter = {},
): Promise<{ data: TransactionDto[]; next_cursor: string | null }> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const account = filter.user || filter.pool ? await accountIdFor(ctx, orgId, filter.user) : null;
  if (filter.kind && !TRANSACTION_KINDS.has(filter.kind)) {
    throw new AppError('validation_failed', `kind must be one of ${[...TRANSACTION_KINDS].join(', ')}`, { field: 'kind' });
  }
  const cursor = filter.cursor ? decodeCursor(filter.cursor) : null;
  // The page's transactions, newest first; for an account, those with an entry on it.
  const ids = await ctx.run(
    `SELECT t.id FROM "ledger_transactions" t
      WHERE t.org_id = $1::uuid
        AND ($2::uuid IS NULL OR t.id IN (SELECT e.transaction_id FROM "ledger_entries" e WHERE e.account_id = $2::uuid))
        AND ($3::text IS NULL OR t.kind::text = $3::text)
        AND ($4::timestamptz IS NULL OR t.created_at >= $4::timestamptz)
        AND ($5::timestamptz IS NULL OR t.created_at < $5::timestamptz)
        AND ($6::timestamptz IS NULL OR (t.created_at, t.id) < ($6::timestamptz, $7::uuid))
      ORDER BY t.created_at DESC, t.id DESC
      LIMIT $8`,
    [orgId, account?.accountId ?? null, filter.kind ?? null, filter.from ?? null, filter.to ?? null, cursor?.at ?? null, cursor?.id ?? null, limit + 1],
  );
  const pageIds = ids.map((r) => r.id as string);
  const [found, allEntries] = await Promise.all([
    ctx.db.ledgerTransaction.findMany({ where: { orgId, id: { in: pageIds } } }),
    entriesOf(ctx.db, orgId, pageIds.slice(0, limit)),
  ]);
  const byId = new Map(found.map((t) => [t.id, t]));
  const entriesByTxn = new Map<string, typeof allEntries>();
  for (const e of allEntries) {
    const list = entriesByTxn.get(e.transactionId);
    if (list) list.push(e);
    else entriesByTxn.set(e.transactionId, [e]);
  }
  const rows = pageIds.flatMap((id) => {
    const t = byId.get(id);
    return t ? [{ ...t, entries: entriesByTxn.get(id) ?? [] }] : [];
  });
  const page = rows.slice(0, limit);
  const data = page.map((t): TransactionDto => {
    const mine = account ? t.entries.filter((e) => e.accountId === account.accountId) : [];
    const customerDraws = t.entries.filter(
      (e) => e.amount < 0n && (e.account.kind === 'user' || e.account.kind === 'pool'),
    );
    return {
      id: t.id,
      kind: t.kind,
      created_at: t.createdAt.toISOString(),
      occurred_at: t.occurredAt.toISOString(),
      memo: t.memo,
      reservation_id: t.reservationId,
      usage_event_id: t.usageEventId,
      actor: { type: t.actorType, id: t.actorId },
      amount: account ? credits(mine.reduce((s, e) => s + e.amount, 0n)) : null,
      entries: t.entries.map((e) => ({
        account: e.account.kind === 'user' ? 'user' : e.account.kind === 'pool' ? 'pool' : `system:${e.account.kind}`,
        user: e.account.userId,
        amount: credits(e.amount),
        lot: e.lot ? { id: e.lot.id, source: e.lot.source, expires_at: e.lot.expiresAt?.toISOString() ?? null } : null,
      })),
      receipt:
        t.kind === 'charge'
          ? customerDraws.map((e) => ({
              lot_id: e.lot?.id ?? null,
              source: e.lot?.source ?? (e.lotId ? null : 'overdraft'),
              amount: credits(-e.amount),
              expires_at: e.lot?.expiresAt?.toISOString() ?? null,
            }))
          : null,
      usage: t.kind === 'charge' ? chargeUsage(t.metadata) : null,
      metadata: withoutUsageFacts(t.metadata),
    };
  });
  const last = page[page.length - 1];
  return { data, next_cursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** Every broken invariant of an org's ledger, as sentences; empty when the ledger is right. */
export async function checkLedger(ctx: LedgerContext, orgId: string): Promise<string[]> {
  const rows = await ctx.run('SELECT problem FROM ledger_check($1::uuid)', [orgId]);
  return rows.map((r) => r.problem as string);
}
