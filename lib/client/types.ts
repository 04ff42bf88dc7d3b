/**
 * Bodies and answers of the Credits API, as they travel: snake_case, amounts as decimal strings of credits
 * (at most 6 fractional digits), times as ISO 8601 strings. `user` is a user id or the external id given when
 * the user was created.
 */

/** Credits as a decimal string, like "12.5". Never a JSON number. */
export type Credits = string;
export type Metadata = Record<string, unknown>;

export type Balance = { available: Credits; reserved: Credits; total: Credits; debt: Credits };

export type AccountBalance = Balance & {
  user: string | null;
  expiring_soon: { amount: Credits; within_days: number; next_expiry: string | null };
};

export type ReserveInput = { user: string; amount: Credits; ttl_seconds?: number; metadata?: Metadata };

export type Reservation = {
  id: string;
  status: 'active';
  amount: Credits;
  expires_at: string;
  funded_by: 'user' | 'pool';
  balance: Balance;
};

export type CommitInput = { amount: Credits; metadata?: Metadata };

export type Commit = {
  id: string;
  status: 'committed';
  charged: Credits;
  released: Credits;
  transaction_id: string | null;
  balance: Balance;
};

export type Release = { id: string; status: 'released'; released: Credits; balance: Balance };

export type ReservationState = {
  id: string;
  status: 'active' | 'committed' | 'released' | 'expired';
  user: string | null;
  funded_by: 'user' | 'pool';
  amount: Credits;
  charged: Credits | null;
  released: Credits | null;
  transaction_id: string | null;
  metadata: Metadata;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
};

export type UsageEvent = { id: string; user: string; amount: Credits; timestamp?: string; metadata?: Metadata };

export type UsageResult =
  | { id: string; status: 'charged' | 'duplicate'; charged: Credits; transaction_id: string | null; balance?: Balance }
  | { id: string; status: 'rejected'; error: { code: string; message: string; details?: Record<string, unknown> } };

export type UsageBatch = {
  results: UsageResult[];
  summary: { charged: number; duplicate: number; rejected: number };
};

export type GrantInput = {
  user?: string;
  amount: Credits;
  expires_at?: string;
  priority?: number;
  reason: string;
  source?: 'promotion' | 'adjustment';
};

export type Grant = {
  transaction_id: string;
  lot_id: string;
  user: string | null;
  amount: Credits;
  expires_at: string | null;
  balance: Balance;
};

export type AllocationInput = { user: string; amount: Credits };
export type TransferInput = { from_user?: string; to_user?: string; amount: Credits; reason?: string };

export type Move = {
  transaction_id: string;
  kind: 'allocation' | 'reclaim' | 'transfer';
  from_user: string | null;
  to_user: string | null;
  amount: Credits;
  from_balance: Balance;
  to_balance: Balance;
};

export type TransactionKind =
  | 'grant'
  | 'purchase'
  | 'allocation'
  | 'reclaim'
  | 'transfer'
  | 'charge'
  | 'expiry'
  | 'adjustment'
  | 'refund'
  | 'debt_settlement';

export type TransactionFilter = {
  user?: string;
  kind?: TransactionKind;
  from?: string | Date;
  to?: string | Date;
  cursor?: string;
  limit?: number;
};

export type Transaction = {
  id: string;
  kind: TransactionKind;
  created_at: string;
  occurred_at: string;
  memo: string | null;
  reservation_id: string | null;
  usage_event_id: string | null;
  actor: { type: 'user' | 'api_key' | 'system'; id: string | null };
  amount: Credits | null;
  entries: {
    account: string;
    user: string | null;
    amount: Credits;
    lot: { id: string; source: string; expires_at: string | null } | null;
  }[];
  receipt: { lot_id: string | null; source: string | null; amount: Credits; expires_at: string | null }[] | null;
  metadata: unknown;
};

export type TransactionPage = { data: Transaction[]; next_cursor: string | null };

export type CreateUserInput = { email?: string | null; name?: string | null; external_id?: string | null };

export type User = {
  id: string;
  email: string | null;
  name: string | null;
  external_id: string | null;
  role: string;
  created_at: string;
};
