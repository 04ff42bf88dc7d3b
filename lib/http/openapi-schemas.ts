/**
 * The JSON Schemas (OpenAPI 3.1 dialect) of the public API's bodies and answers, written by hand to match the
 * DTOs of lib/ledger, lib/users and lib/auth. Amounts are decimal strings of credits, never JSON numbers.
 */

import { modelField, pricingSchemas, providerField, tokenFields } from './openapi-pricing-schemas.ts';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...(description && { description }), ...extra });
const uuid = (description?: string): Schema => str(description, { format: 'uuid' });
const dateTime = (description?: string): Schema => str(description, { format: 'date-time' });
const nullable = (schema: Schema): Schema =>
  '$ref' in schema ? { oneOf: [schema, { type: 'null' }] } : { ...schema, type: [schema.type, 'null'] };
const integer = (description?: string, extra: Schema = {}): Schema => ({ type: 'integer', ...(description && { description }), ...extra });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description && { description }) });
const metadata: Schema = { type: 'object', additionalProperties: true, description: 'Free-form JSON kept with the record' };

/** An object whose listed properties are all required unless named in `optional`. */
function object(properties: Record<string, Schema>, optional: string[] = [], extra: Schema = {}): Schema {
  const required = Object.keys(properties).filter((name) => !optional.includes(name));
  return { type: 'object', properties, ...(required.length > 0 && { required }), ...extra };
}

const credits = (description = 'Credits as a decimal string with at most 6 fractional digits'): Schema =>
  str(description, { pattern: '^-?\\d+(\\.\\d{1,6})?$', examples: ['12.5'] });
const positiveCredits = (description = 'Credits greater than 0, a decimal string with at most 6 fractional digits'): Schema =>
  str(description, { pattern: '^\\d+(\\.\\d{1,6})?$', examples: ['12.5'] });
const nonNegativeCredits = (description = 'Credits, 0 or more, a decimal string with at most 6 fractional digits'): Schema =>
  str(description, { pattern: '^\\d+(\\.\\d{1,6})?$', examples: ['12.5'] });
const userRef = (description = 'A user id or the external id given when the user was created'): Schema =>
  str(description, { minLength: 1, maxLength: 200 });

const orgPolicyFields = {
  auto_allocation: nonNegativeCredits('Credits allocated from the pool to every new member'),
  monthly_refill_to: nullable(nonNegativeCredits('Each month, members are topped up to this amount from the pool')),
  pool_fallback: bool('Whether members may draw from the pool when their own credits run out'),
  pool_daily_limit: nullable(nonNegativeCredits('Most a member may draw from the pool per UTC day')),
  pool_monthly_limit: nullable(nonNegativeCredits('Most a member may draw from the pool per UTC month')),
  overdraft_limit: nonNegativeCredits('How far below zero an account may go when a commit or usage costs more than expected'),
  default_reservation_ttl_seconds: integer('TTL of a reservation that names none', { minimum: 1, maximum: 86_400 }),
  max_reservation_ttl_seconds: integer('Longest TTL a reservation may ask for', { minimum: 1, maximum: 86_400 }),
};

const memberPolicyFields = {
  auto_allocation: nullable(nonNegativeCredits()),
  monthly_refill_to: nullable(nonNegativeCredits()),
  pool_fallback: { type: ['boolean', 'null'] },
  pool_daily_limit: nullable(nonNegativeCredits()),
  pool_monthly_limit: nullable(nonNegativeCredits()),
};

/** What a backend may tell of its call; shown on the call's usage record. */
const callFacts = {
  request_id: str('Your id for the call', { minLength: 1, maxLength: 200 }),
  latency_ms: integer('How long the call took, in milliseconds', { minimum: 0, maximum: 86_400_000 }),
  status: str('What became of the call', { enum: ['ok', 'error', 'cancelled'] }),
};

export const schemas: Record<string, Schema> = {
  Error: object({ error: ref('ErrorDetail') }),
  ErrorDetail: object(
    {
      code: str('Machine-readable error code, e.g. insufficient_credits, idempotency_mismatch, validation_failed'),
      message: str('Human-readable explanation'),
      details: { type: 'object', additionalProperties: true, description: 'Extra facts, e.g. validation issues' },
    },
    ['details'],
  ),
  Health: object(
    {
      status: str(undefined, { enum: ['ok', 'error'] }),
      database: str(undefined, { enum: ['ok', 'unreachable'] }),
      version: str(),
      reason: str('Why the database is unreachable'),
    },
    ['reason'],
  ),
  Me: object({
    org: object({ id: uuid(), slug: str(), name: str() }),
    api_key: object({ id: uuid(), prefix: str(), scopes: { type: 'array', items: ref('Scope') } }),
  }),
  Scope: str('admin: everything; meter: reservations, usage and balances; read: GET endpoints', {
    enum: ['admin', 'meter', 'read'],
  }),
  User: object({
    id: uuid(),
    email: nullable(str(undefined, { format: 'email' })),
    name: nullable(str()),
    external_id: nullable(str()),
    role: str(undefined, { enum: ['owner', 'admin', 'billing', 'member'] }),
    created_at: dateTime(),
  }),
  UserList: object({ data: { type: 'array', items: ref('User') } }),
  CreateUserRequest: object(
    {
      email: nullable(str(undefined, { format: 'email', maxLength: 254 })),
      name: nullable(str(undefined, { maxLength: 200 })),
      external_id: nullable(str('Your id for this user, unique in the org', { minLength: 1, maxLength: 200 })),
    },
    ['email', 'name', 'external_id'],
    { description: 'All optional: a user given neither email nor external_id is named by the id of the answer' },
  ),
  ApiKey: object({
    id: uuid(),
    name: str(),
    prefix: str('The first 12 characters of the key'),
    scopes: { type: 'array', items: ref('Scope') },
    created_at: dateTime(),
    last_used_at: nullable(dateTime()),
    revoked_at: nullable(dateTime()),
  }),
  ApiKeyList: object({ data: { type: 'array', items: ref('ApiKey') } }),
  CreatedApiKey: {
    allOf: [
      ref('ApiKey'),
      object({
        key: nullable(str('The clear key, shown in this response only; null when an idempotent request is repeated')),
      }),
    ],
  },
  CreateApiKeyRequest: object({
    name: str(undefined, { minLength: 1, maxLength: 100 }),
    scopes: { type: 'array', items: ref('Scope'), minItems: 1 },
  }),
  RevokedApiKey: object({ id: uuid(), revoked_at: dateTime() }),
  Balance: object({
    available: credits('Spendable now'),
    reserved: credits('Held by active reservations'),
    total: credits('available + reserved'),
    debt: credits('Overdraft to be repaid from the next credits'),
  }),
  AccountBalance: {
    allOf: [
      ref('Balance'),
      object({
        user: nullable(uuid('The member, or null for the org pool')),
        expiring_soon: object({
          amount: credits('Credits expiring within `within_days`'),
          within_days: integer(),
          next_expiry: nullable(dateTime()),
        }),
      }),
    ],
  },
  GrantRequest: object(
    {
      user: userRef('The member to credit; without it the org pool'),
      amount: positiveCredits(),
      expires_at: dateTime('When the granted credits expire; never when absent'),
      priority: integer('Higher priority lots are spent first', { minimum: -1000, maximum: 1000 }),
      reason: str(undefined, { minLength: 1, maxLength: 500 }),
      source: str(undefined, { enum: ['promotion', 'adjustment'], default: 'promotion' }),
    },
    ['user', 'expires_at', 'priority', 'source'],
  ),
  Grant: object({
    transaction_id: uuid(),
    lot_id: uuid(),
    user: nullable(uuid()),
    amount: credits(),
    expires_at: nullable(dateTime()),
    balance: ref('Balance'),
  }),
  AllocationRequest: object({ user: userRef(), amount: positiveCredits() }),
  TransferRequest: object(
    {
      from_user: userRef('Source member; the org pool when absent'),
      to_user: userRef('Destination member; the org pool when absent'),
      amount: positiveCredits(),
      reason: str(undefined, { maxLength: 500 }),
    },
    ['from_user', 'to_user', 'reason'],
    { description: 'Name from_user, to_user or both' },
  ),
  Move: object({
    transaction_id: uuid(),
    kind: str(undefined, { enum: ['allocation', 'reclaim', 'transfer'] }),
    from_user: nullable(uuid()),
    to_user: nullable(uuid()),
    amount: credits(),
    from_balance: ref('Balance'),
    to_balance: ref('Balance'),
  }),
  Lot: object({
    id: uuid(),
    source: str(undefined, { enum: ['purchase', 'promotion', 'adjustment', 'refund', 'allocation', 'transfer'] }),
    amount: credits(),
    remaining: credits(),
    priority: integer(),
    created_at: dateTime(),
    expires_at: nullable(dateTime()),
    expired: bool(),
  }),
  LotList: object({ data: { type: 'array', items: ref('Lot') } }),
  ReserveRequest: object(
    {
      user: userRef(),
      amount: positiveCredits('The hold; or give model and estimate instead'),
      model: modelField,
      provider: providerField,
      estimate: ref('EstimateRequestText'),
      ttl_seconds: integer('Defaults to the policy; at most its maximum', { minimum: 1, maximum: 86_400 }),
      metadata,
    },
    ['amount', 'model', 'provider', 'estimate', 'ttl_seconds', 'metadata'],
    {
      description: 'Exactly one of amount, or model with estimate (the hold is the estimated cost; 422 unknown_model for unpriced models)',
      oneOf: [{ required: ['amount'] }, { required: ['model', 'estimate'] }],
    },
  ),
  Reservation: object({
    id: uuid(),
    status: str(undefined, { const: 'active' }),
    amount: credits(),
    expires_at: dateTime(),
    funded_by: str('Whose credits are held: the member\'s or, with pool fallback, the pool\'s', { enum: ['user', 'pool'] }),
    balance: ref('Balance'),
  }),
  CommitRequest: object(
    { amount: nonNegativeCredits('The real cost; 0 or more'), usage: ref('ModelUsage'), ...callFacts, metadata },
    ['amount', 'usage', ...Object.keys(callFacts), 'metadata'],
    {
      description: 'Exactly one of amount, or usage (model and tokens, priced now; 422 unknown_model for unpriced models)',
      oneOf: [{ required: ['amount'] }, { required: ['usage'] }],
    },
  ),
  Commit: object({
    id: uuid(),
    status: str(undefined, { const: 'committed' }),
    charged: credits(),
    released: credits('The unused part of the hold, back to the account'),
    transaction_id: nullable(uuid('null when nothing was charged')),
    balance: ref('Balance'),
  }),
  ReleaseRequest: object({ ...callFacts }, Object.keys(callFacts), {
    description: "Optional (no body, or an empty object). The call's usage record says cancelled unless status says otherwise",
  }),
  Release: object({
    id: uuid(),
    status: str(undefined, { const: 'released' }),
    released: credits(),
    balance: ref('Balance'),
  }),
  ReservationState: object({
    id: uuid(),
    status: str('An active reservation past its expiry shows as expired', {
      enum: ['active', 'committed', 'released', 'expired'],
    }),
    user: nullable(uuid()),
    funded_by: str(undefined, { enum: ['user', 'pool'] }),
    amount: credits(),
    charged: nullable(credits()),
    released: nullable(credits()),
    transaction_id: nullable(uuid()),
    metadata,
    created_at: dateTime(),
    expires_at: dateTime(),
    resolved_at: nullable(dateTime()),
  }),
  UsageEvent: object(
    {
      id: str('Your id for the event, unique in the org: a repeat is charged once', { minLength: 1, maxLength: 200 }),
      user: userRef(),
      amount: nonNegativeCredits('The cost; 0 or more. Or give model and token counts instead'),
      model: modelField,
      provider: providerField,
      ...tokenFields,
      timestamp: dateTime('When the usage happened (at most 400 days ago); now when absent. Model usage is priced as of it'),
      ...callFacts,
      metadata,
    },
    ['amount', 'model', 'provider', ...Object.keys(tokenFields), 'timestamp', ...Object.keys(callFacts), 'metadata'],
    {
      description: 'Exactly one of amount, or model with input_tokens and output_tokens (422 unknown_model for unpriced models)',
      oneOf: [{ required: ['amount'] }, { required: ['model', 'input_tokens', 'output_tokens'] }],
    },
  ),
  UsageBatchRequest: object({ events: { type: 'array', items: ref('UsageEvent'), minItems: 1, maxItems: 1000 } }),
  UsageResult: {
    oneOf: [
      object(
        {
          id: str(),
          status: str(undefined, { enum: ['charged', 'duplicate'] }),
          charged: credits(),
          transaction_id: nullable(uuid()),
          balance: ref('Balance'),
        },
        ['balance'],
      ),
      object({
        id: str(),
        status: str(undefined, { const: 'rejected' }),
        error: ref('ErrorDetail'),
      }),
    ],
  },
  UsageBatch: object({
    results: { type: 'array', items: ref('UsageResult') },
    summary: object({ charged: integer(), duplicate: integer(), rejected: integer() }),
  }),
  Transaction: object({
    id: uuid(),
    kind: str(undefined, {
      enum: ['grant', 'purchase', 'allocation', 'reclaim', 'transfer', 'charge', 'expiry', 'adjustment', 'refund', 'debt_settlement'],
    }),
    created_at: dateTime(),
    occurred_at: dateTime(),
    memo: nullable(str()),
    reservation_id: nullable(uuid()),
    usage_event_id: nullable(uuid()),
    actor: object({ type: str(undefined, { enum: ['user', 'api_key', 'system'] }), id: nullable(str()) }),
    amount: nullable(credits('Net change of the requested user\'s account; null for the org-wide view')),
    entries: {
      type: 'array',
      items: object({
        account: str('user, pool or system:<kind>'),
        user: nullable(uuid()),
        amount: credits(),
        lot: nullable(object({ id: uuid(), source: str(), expires_at: nullable(dateTime()) })),
      }),
    },
    receipt: nullable({
      type: 'array',
      description: 'For charges: the lots that paid, and any part paid by overdraft',
      items: object({
        lot_id: nullable(uuid()),
        source: nullable(str()),
        amount: credits(),
        expires_at: nullable(dateTime()),
      }),
    }),
    usage: nullable(
      object({
        model: str(),
        provider: nullable(str()),
        input_tokens: integer(),
        output_tokens: integer(),
        cached_input_tokens: integer(),
        reasoning_tokens: integer(),
      }),
    ),
    metadata,
  }),
  TransactionPage: object({
    data: { type: 'array', items: ref('Transaction') },
    next_cursor: nullable(str('Pass as `cursor` for the next page')),
  }),
  OrgPolicy: object(orgPolicyFields),
  OrgPolicyUpdate: object(
    orgPolicyFields,
    Object.keys(orgPolicyFields),
    { additionalProperties: false, description: 'Only the fields given change' },
  ),
  MemberPolicyOverrides: object(memberPolicyFields, [], { description: 'null: the org policy applies' }),
  MemberPolicy: object({ user: uuid(), overrides: ref('MemberPolicyOverrides'), effective: ref('OrgPolicy') }),
  MemberPolicyUpdate: object(memberPolicyFields, Object.keys(memberPolicyFields), {
    additionalProperties: false,
    description: 'Only the fields given change; null clears an override',
  }),
  ...pricingSchemas,
};
