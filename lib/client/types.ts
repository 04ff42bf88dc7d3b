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

/** A chat message as sent to the model, for counting its tokens. */
export type ChatMessage = {
  role?: string;
  content?: string | Array<{ type: string; text?: string }> | null;
  name?: string;
  [field: string]: unknown;
};

/** What a request will send: exactly one of messages, input_tokens, prompt or input. */
export type EstimateText = (
  | { messages: ChatMessage[] }
  | { input_tokens: number }
  | { prompt: string }
  | { input: string | ChatMessage[] }
) & { max_output_tokens?: number };

/** Token counts of a finished request; cached and cache-write tokens are part of input, reasoning of output. */
export type TokenCounts = {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
};

export type ModelUsage = TokenCounts & { model: string; provider?: string };

/** A hold of `amount`, or of the estimated cost of a request to `model`. */
export type ReserveInput = { user: string; ttl_seconds?: number; metadata?: Metadata } & (
  | { amount: Credits }
  | { model: string; provider?: string; estimate: EstimateText }
);

export type EstimateInput = { model: string; provider?: string } & EstimateText;

export type ChargeBreakdown = {
  lines: { kind: 'input' | 'cached_input' | 'cache_write' | 'output' | 'reasoning'; tokens: number; usd_per_mtok: string }[];
  tier_start: number | null;
  request_fee_usd: string;
  usd: string;
  micros_per_usd: string;
  markup_bps: number;
  discount_bps: number;
};

export type UsageRecord = TokenCounts & {
  id: string;
  user: string | null;
  api_key_id: string | null;
  model: string | null;
  provider: string | null;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost: Credits;
  price_version_id: string | null;
  org_price_version_id: string | null;
  latency_ms: number | null;
  status: 'ok' | 'error' | 'cancelled';
  request_id: string | null;
  metadata: Metadata;
  occurred_at: string;
  transaction_id: string | null;
  reservation_id: string | null;
  usage_event_id: string | null;
};

export type UsageRecordFilter = {
  user?: string;
  model?: string;
  api_key?: string;
  status?: 'ok' | 'error' | 'cancelled';
  from?: string | Date;
  to?: string | Date;
  cursor?: string;
  limit?: number;
};

export type UsageRecordPage = { data: UsageRecord[]; next_cursor: string | null };

/** USD per million tokens, as a decimal string like "2.5". */
export type Usd = string;

export type CatalogModel = {
  provider: string;
  model: string;
  match: Record<string, unknown>;
  input: Usd;
  output: Usd;
  cached_input: Usd | null;
  cache_write: Usd | null;
  reasoning: Usd | null;
  request_fee: Usd | null;
  tiers: { start: number; input: Usd; output: Usd }[];
  max_output_tokens: number | null;
};

export type CatalogPage = { catalog: string | null; total: number; data: CatalogModel[] };

export type OrgPricing = {
  version_id: string | null;
  effective_at: string | null;
  credits_per_usd: Credits;
  markup_bps: number;
  estimate_margin_bps: number;
  estimate_output_cap: number;
  default_price: { input: Usd; output: Usd } | null;
  discount_tiers: { from_credits: Credits; discount_bps: number }[];
  models: CatalogModel[];
  history: { id: string; effective_at: string; created_at: string; note: string | null; models: number }[];
};

/** Only the fields given change; `models` replaces the org's whole list. */
export type OrgPricingInput = {
  credits_per_usd?: Credits;
  markup_bps?: number;
  estimate_margin_bps?: number;
  estimate_output_cap?: number;
  default_price?: { input: Usd; output: Usd } | null;
  discount_tiers?: { from_credits: Credits; discount_bps: number }[];
  models?: {
    model: string;
    provider?: string;
    match?: Record<string, unknown>;
    input: Usd;
    output: Usd;
    cached_input?: Usd;
    cache_write?: Usd;
    reasoning?: Usd;
    request_fee?: Usd;
    max_output_tokens?: number;
    context_window?: number;
  }[];
  effective_at?: string;
  note?: string;
};

export type Estimate = {
  model: string;
  provider: string;
  input_tokens: number;
  output_tokens: number;
  counted_with: string;
  margin_bps: number;
  amount: Credits;
  price_version_id: string;
  org_price_version_id: string | null;
  breakdown: ChargeBreakdown;
};

export type Reservation = {
  id: string;
  status: 'active';
  amount: Credits;
  expires_at: string;
  funded_by: 'user' | 'pool';
  balance: Balance;
};

/** The real cost as `amount`, or the request's `usage` for the server to price. */
/** What a backend may tell of its call; shown on the call's usage record. */
export type CallFacts = { request_id?: string; latency_ms?: number; status?: 'ok' | 'error' | 'cancelled' };

export type CommitInput = ({ amount: Credits } | { usage: ModelUsage }) & CallFacts & { metadata?: Metadata };

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

/** An event costing `amount`, or a model's usage priced by the server as of `timestamp`. */
export type UsageEvent = { id: string; user: string; timestamp?: string; metadata?: Metadata } & CallFacts & (
  | { amount: Credits }
  | ({ model: string; provider?: string } & TokenCounts)
);

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
  /** For charges of an LLM request that named its model: the model and its tokens. */
  usage: {
    model: string;
    provider: string | null;
    input_tokens: number;
    output_tokens: number;
    cached_input_tokens: number;
    reasoning_tokens: number;
  } | null;
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
