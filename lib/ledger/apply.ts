/**
 * Runs ledger operations through the database's `ledger_apply` (see the ledger migration): one SQL statement
 * per batch, which locks the customer accounts it touches in id order, applies the operations in order and
 * returns one result per operation. Nothing here holds a transaction open across a network call.
 */
import type { Actor } from '../auth/actor.ts';

/** Amounts travel as strings of micro-credits (bigint in SQL); never as JSON numbers. */
export type Micros = string;

type OpBase = {
  actor_type?: 'user' | 'api_key' | 'system';
  actor_id?: string | null;
  memo?: string | null;
  metadata?: Record<string, unknown>;
  idempotency_key?: string;
  idempotency_hash?: string;
};

export type GrantOp = OpBase & {
  type: 'grant';
  account_id: string;
  amount: Micros;
  source: 'promotion' | 'purchase' | 'adjustment' | 'refund';
  priority?: number;
  expires_at?: string | null;
};

export type MoveOp = OpBase & {
  type: 'move';
  kind: 'allocation' | 'reclaim' | 'transfer';
  from_account_id: string;
  to_account_id: string;
  amount: Micros;
  /** An audit entry written with the move, naming its journal transaction. */
  audit?: { action: string; data: Record<string, unknown> };
};

/** Pool fallback: present only when the member's policy lets them draw from the pool. */
export type PoolFallback = {
  pool_account_id?: string;
  pool_daily_limit?: Micros | null;
  pool_monthly_limit?: Micros | null;
};

export type ReserveOp = OpBase &
  PoolFallback & {
    type: 'reserve';
    id?: string;
    account_id: string;
    membership_id: string;
    amount: Micros;
    ttl_seconds: number;
  };

export type CommitOp = OpBase & {
  type: 'commit';
  reservation_id: string;
  /** The member's own account, whose balance the result shows. */
  account_id?: string;
  amount: Micros;
  request_hash: string;
};

export type ReleaseOp = OpBase & { type: 'release'; reservation_id: string; account_id?: string };

/** A hold of the member's own credits for many requests: `amount` at most, `min_amount` at least. */
export type LeaseOp = OpBase & {
  type: 'lease';
  id: string;
  account_id: string;
  membership_id: string;
  amount: Micros;
  min_amount: Micros;
  ttl_seconds: number;
};

/** One request charged from a lease: `id` names its usage record (a repeat of it charges nothing). */
export type CaptureCharge = Pick<OpBase, 'actor_type' | 'actor_id'> & {
  id: string;
  amount: Micros;
  /** At most this much is taken from the hold (the rest of it is promised to other requests). */
  from_hold?: Micros;
  usage: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  occurred_at?: string;
};

/** `give_back`: after the charges, this much of what the lease still sets aside goes back to its lots. */
export type CaptureOp = OpBase & { type: 'capture'; reservation_id: string; account_id?: string; charges: CaptureCharge[]; give_back?: Micros };

export type UsageOp = OpBase &
  PoolFallback & {
    type: 'usage';
    event_id: string;
    account_id: string;
    membership_id: string;
    amount: Micros;
    occurred_at?: string;
    request_hash: string;
  };

export type SweepOp = { type: 'sweep'; account_id: string };

export type LedgerOp = GrantOp | MoveOp | ReserveOp | LeaseOp | CaptureOp | CommitOp | ReleaseOp | UsageOp | SweepOp;

export type AccountState = { account_id: string; available: Micros; reserved: Micros; balance: Micros; debt: Micros };

export type LedgerSuccess = { ok: true; http_status: number } & Record<string, unknown>;
export type LedgerFailure = {
  ok: false;
  http_status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
};
export type LedgerResult = LedgerSuccess | LedgerFailure;

/** Something that can run one SQL statement with parameters: a pg pool or client, or a Prisma transaction. */
export type SqlRunner = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

export function pgRunner(pool: { query: (sql: string, params: unknown[]) => Promise<{ rows: unknown[] }> }): SqlRunner {
  return async (sql, params) => (await pool.query(sql, params)).rows as Array<Record<string, unknown>>;
}

export function prismaRunner(tx: {
  $queryRawUnsafe: (sql: string, ...params: unknown[]) => Promise<unknown>;
}): SqlRunner {
  return async (sql, params) => (await tx.$queryRawUnsafe(sql, ...params)) as Array<Record<string, unknown>>;
}

/** The actor fields of an operation. */
export function opActor(actor: Actor): Pick<OpBase, 'actor_type' | 'actor_id'> {
  switch (actor.type) {
    case 'user':
      return { actor_type: 'user', actor_id: actor.userId };
    case 'api_key':
      return { actor_type: 'api_key', actor_id: actor.apiKeyId };
    case 'system':
      return { actor_type: 'system', actor_id: null };
  }
}

/** Applies a batch of one org's operations in one statement; `now` overrides the database clock (tests). */
export async function applyOps(run: SqlRunner, orgId: string, ops: LedgerOp[], now?: Date): Promise<LedgerResult[]> {
  const rows = await run('SELECT ledger_apply($1::uuid, $2::jsonb, $3::timestamptz) AS results', [
    orgId,
    JSON.stringify(ops),
    now ? now.toISOString() : null,
  ]);
  const results = rows[0]?.results;
  return (typeof results === 'string' ? JSON.parse(results) : results) as LedgerResult[];
}
