/**
 * The OpenAPI 3.1 description of the whole public API (/api/v1 and /api/health), served at
 * GET /api/v1/openapi.json. Written by hand next to the routes; a unit test fails when a route handler has no
 * operation here. Every POST takes an Idempotency-Key; every operation names its scopes.
 */
import { proxyPaths, proxySchemas } from './openapi-proxy.ts';
import { schemas } from './openapi-schemas.ts';

type Json = Record<string, unknown>;
type Scope = 'admin' | 'meter' | 'read';

const schemaRef = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const paramRef = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });
const responseRef = (name: string): Json => ({ $ref: `#/components/responses/${name}` });

const errorResponses: Record<number, [string, string]> = {
  400: ['BadRequest', 'Malformed JSON (invalid_json) or a malformed Idempotency-Key (bad_request)'],
  401: ['Unauthenticated', 'Missing, malformed, unknown or revoked API key (unauthenticated)'],
  402: ['InsufficientCredits', 'Not enough available credits (insufficient_credits); details name available and requested'],
  403: ['Forbidden', 'The API key lacks the required scope (forbidden)'],
  404: ['NotFound', 'No such record in the key\'s org (not_found); records of other orgs are not found too'],
  409: ['Conflict', 'The request conflicts with the current state (conflict, reservation_expired, reservation_already_committed, reservation_already_released, commit_exceeds_available, event_conflict)'],
  422: ['Unprocessable', 'The body or query does not fit (validation_failed, with details.issues), the Idempotency-Key was used with another request (idempotency_mismatch), or no price is known for the model (unknown_model)'],
  429: ['RateLimited', 'Too many requests (rate_limited); retry after the Retry-After header'],
  500: ['Internal', 'Unexpected error (internal); the x-request-id header identifies it in the logs'],
};

function scopeText(scopes: Scope[] | null): string {
  if (scopes === null) return 'No authentication.';
  const names = scopes.map((s) => `\`${s}\``).join(' or ');
  return scopes.length === 1 && scopes[0] === 'admin'
    ? 'Scope: `admin`.'
    : `Scopes: ${names} (an \`admin\` key is accepted everywhere).`;
}

type OperationSpec = {
  summary: string;
  description?: string;
  tag: string;
  /** null: public. */
  scopes: Scope[] | null;
  parameters?: Json[];
  body?: string;
  bodyRequired?: boolean;
  ok: { status: number; description: string; schema: string };
  errors?: number[];
};

function operation(method: 'get' | 'post' | 'put' | 'delete', spec: OperationSpec): Json {
  const authErrors = spec.scopes === null ? [] : [401, 403];
  const bodyErrors = spec.body ? [400, 422] : [];
  const codes = [...new Set([...authErrors, ...bodyErrors, ...(spec.errors ?? []), ...(spec.scopes ? [429] : []), 500])];
  const responses: Json = {
    [spec.ok.status]: {
      description: spec.ok.description,
      headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' } },
      content: { 'application/json': { schema: schemaRef(spec.ok.schema) } },
    },
  };
  for (const code of codes.sort((a, b) => a - b)) responses[code] = responseRef(errorResponses[code][0]);
  const parameters = [...(spec.parameters ?? []), ...(method === 'post' || method === 'put' ? [paramRef('IdempotencyKey')] : [])];
  return {
    tags: [spec.tag],
    summary: spec.summary,
    description: [spec.description, scopeText(spec.scopes)].filter(Boolean).join('\n\n'),
    ...(spec.scopes === null ? { security: [] } : {}),
    ...(parameters.length > 0 && { parameters }),
    ...(spec.body && {
      requestBody: {
        required: spec.bodyRequired ?? true,
        content: { 'application/json': { schema: schemaRef(spec.body) } },
      },
    }),
    responses,
  };
}

const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const userQuery = query('user', 'A member (user id or external id); the org pool when absent');

const paths: Record<string, Json> = {
  '/api/health': {
    get: operation('get', {
      tag: 'Operations',
      summary: 'Health check',
      description: 'Answers 503 with the same shape when the database is unreachable.',
      scopes: null,
      ok: { status: 200, description: 'The app and its database answer', schema: 'Health' },
    }),
  },
  '/api/v1/openapi.json': {
    get: operation('get', {
      tag: 'Operations',
      summary: 'This OpenAPI document',
      scopes: null,
      ok: { status: 200, description: 'The OpenAPI 3.1 document', schema: 'OpenApiDocument' },
    }),
  },
  '/api/v1/me': {
    get: operation('get', {
      tag: 'Keys and users',
      summary: 'The org and key a request authenticates as',
      scopes: ['admin', 'meter', 'read'],
      ok: { status: 200, description: 'The key\'s org and scopes', schema: 'Me' },
    }),
  },
  '/api/v1/users': {
    get: operation('get', {
      tag: 'Keys and users',
      summary: 'List the org\'s users',
      scopes: ['admin', 'read'],
      ok: { status: 200, description: 'The members of the org', schema: 'UserList' },
    }),
    post: operation('post', {
      tag: 'Keys and users',
      summary: 'Create a user in the org',
      description: 'A user known only by external_id cannot sign in; they exist for metering.',
      scopes: ['admin'],
      body: 'CreateUserRequest',
      ok: { status: 201, description: 'The new member', schema: 'User' },
      errors: [409],
    }),
  },
  '/api/v1/users/{user}/policy': {
    parameters: [{ name: 'user', in: 'path', required: true, description: 'User id or external id', schema: { type: 'string' } }],
    get: operation('get', {
      tag: 'Policy',
      summary: 'A member\'s policy overrides and the policy in effect for them',
      scopes: ['admin'],
      ok: { status: 200, description: 'Overrides and effective policy', schema: 'MemberPolicy' },
      errors: [404],
    }),
    put: operation('put', {
      tag: 'Policy',
      summary: 'Set a member\'s policy overrides',
      scopes: ['admin'],
      body: 'MemberPolicyUpdate',
      ok: { status: 200, description: 'Overrides and effective policy after the change', schema: 'MemberPolicy' },
      errors: [404],
    }),
  },
  '/api/v1/api-keys': {
    get: operation('get', {
      tag: 'Keys and users',
      summary: 'List the org\'s API keys (never the keys themselves)',
      scopes: ['admin'],
      ok: { status: 200, description: 'Keys, newest first, revoked ones included', schema: 'ApiKeyList' },
    }),
    post: operation('post', {
      tag: 'Keys and users',
      summary: 'Create an API key',
      description: 'The clear key is in this response only. Repeating the request with the same Idempotency-Key answers the same record with `key: null`.',
      scopes: ['admin'],
      body: 'CreateApiKeyRequest',
      ok: { status: 201, description: 'The new key', schema: 'CreatedApiKey' },
    }),
  },
  '/api/v1/api-keys/{id}': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    delete: operation('delete', {
      tag: 'Keys and users',
      summary: 'Revoke an API key',
      description: 'Revoking twice keeps the first revocation time.',
      scopes: ['admin'],
      ok: { status: 200, description: 'The revoked key', schema: 'RevokedApiKey' },
      errors: [404],
    }),
  },
  '/api/v1/grants': {
    post: operation('post', {
      tag: 'Credits',
      summary: 'Grant credits to the org pool or a member',
      scopes: ['admin'],
      body: 'GrantRequest',
      ok: { status: 201, description: 'The new lot and the account\'s balance', schema: 'Grant' },
      errors: [404],
    }),
  },
  '/api/v1/allocations': {
    post: operation('post', {
      tag: 'Credits',
      summary: 'Allocate credits from the pool to a member',
      description: 'The credits keep the expiry and priority of the pool lots they came from.',
      scopes: ['admin'],
      body: 'AllocationRequest',
      ok: { status: 201, description: 'The move and both balances', schema: 'Move' },
      errors: [402, 404],
    }),
  },
  '/api/v1/allocations/reclaim': {
    post: operation('post', {
      tag: 'Credits',
      summary: 'Take unused credits back from a member to the pool',
      scopes: ['admin'],
      body: 'AllocationRequest',
      ok: { status: 201, description: 'The move and both balances', schema: 'Move' },
      errors: [402, 404],
    }),
  },
  '/api/v1/transfers': {
    post: operation('post', {
      tag: 'Credits',
      summary: 'Move credits between members, or a member and the pool',
      scopes: ['admin'],
      body: 'TransferRequest',
      ok: { status: 201, description: 'The move and both balances', schema: 'Move' },
      errors: [402, 404],
    }),
  },
  '/api/v1/balance': {
    get: operation('get', {
      tag: 'Credits',
      summary: 'Balance of the pool or a member',
      scopes: ['meter', 'read'],
      parameters: [userQuery],
      ok: { status: 200, description: 'The balance', schema: 'AccountBalance' },
      errors: [404, 422],
    }),
  },
  '/api/v1/lots': {
    get: operation('get', {
      tag: 'Credits',
      summary: 'Credit lots of the pool or a member, in spend order',
      scopes: ['read'],
      parameters: [userQuery, query('include_spent', 'Include lots with nothing left', { type: 'string', enum: ['true', 'false'] })],
      ok: { status: 200, description: 'The lots', schema: 'LotList' },
      errors: [404, 422],
    }),
  },
  '/api/v1/reservations': {
    post: operation('post', {
      tag: 'Metering',
      summary: 'Reserve credits before an LLM call',
      description: 'Holds the amount until commit, release or expiry. With pool fallback a member short of credits is funded by the pool.',
      scopes: ['meter'],
      body: 'ReserveRequest',
      ok: { status: 201, description: 'The active reservation', schema: 'Reservation' },
      errors: [402, 404],
    }),
  },
  '/api/v1/reservations/{id}': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    get: operation('get', {
      tag: 'Metering',
      summary: 'A reservation\'s state',
      scopes: ['meter', 'read'],
      ok: { status: 200, description: 'The reservation', schema: 'ReservationState' },
      errors: [404],
    }),
  },
  '/api/v1/reservations/{id}/commit': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    post: operation('post', {
      tag: 'Metering',
      summary: 'Charge the real cost of a reserved call',
      description: 'The unused part of the hold goes back. Repeating the same commit answers the first result; another amount answers 409 reservation_already_committed; after expiry 409 reservation_expired.',
      scopes: ['meter'],
      body: 'CommitRequest',
      ok: { status: 200, description: 'The committed reservation', schema: 'Commit' },
      errors: [404, 409],
    }),
  },
  '/api/v1/reservations/{id}/release': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    post: operation('post', {
      tag: 'Metering',
      summary: 'Give a reservation\'s hold back',
      scopes: ['meter'],
      body: 'ReleaseRequest',
      bodyRequired: false,
      ok: { status: 200, description: 'The released reservation', schema: 'Release' },
      errors: [404, 409],
    }),
  },
  '/api/v1/usage': {
    post: operation('post', {
      tag: 'Metering',
      summary: 'Record one usage event',
      description: 'Charged at once; 201 when charged, 200 when the event id was already recorded with the same content.',
      scopes: ['meter'],
      body: 'UsageEvent',
      ok: { status: 201, description: 'Charged (or 200: duplicate)', schema: 'UsageResult' },
      errors: [402, 404, 409],
    }),
  },
  '/api/v1/usage/batch': {
    post: operation('post', {
      tag: 'Metering',
      summary: 'Record up to 1000 usage events',
      description: 'One answer per event, in order: charged, duplicate or rejected with the reason.',
      scopes: ['meter'],
      body: 'UsageBatchRequest',
      ok: { status: 200, description: 'Per-event results and a summary', schema: 'UsageBatch' },
    }),
  },
  '/api/v1/usage/records': {
    get: operation('get', {
      tag: 'Metering',
      summary: 'Usage records: one per metered request, newest first',
      description: 'Each record names the member, API key, model, tokens by kind, cost, price versions, latency, status and request id, and the transaction, reservation or usage event it came from.',
      scopes: ['read', 'meter'],
      parameters: [
        query('user', 'Only this member (user id or external id)'),
        query('model', 'Only this model'),
        query('api_key', 'Only requests made with this API key', { type: 'string', format: 'uuid' }),
        query('status', 'Only this status', { type: 'string', enum: ['ok', 'error', 'cancelled'] }),
        query('from', 'Occurred at or after', { type: 'string', format: 'date-time' }),
        query('to', 'Occurred before', { type: 'string', format: 'date-time' }),
        query('cursor', 'next_cursor of the previous page'),
        query('limit', 'Page size', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
      ],
      ok: { status: 200, description: 'A page of usage records', schema: 'UsageRecordPage' },
      errors: [404, 422],
    }),
  },
  '/api/v1/models': {
    get: operation('get', {
      tag: 'Pricing',
      summary: 'The price catalog in force now',
      description: 'Models with their match rules and prices in USD per million tokens, in the order lookups prefer them; the org\'s own prices (GET /api/v1/pricing) come first when a model is priced.',
      scopes: ['read', 'meter'],
      parameters: [
        query('search', 'Only models or providers whose name contains this'),
        query('page', 'Page number, from 0', { type: 'integer', minimum: 0, default: 0 }),
        query('limit', 'Page size', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
      ],
      ok: { status: 200, description: 'A page of the catalog', schema: 'CatalogPage' },
      errors: [422],
    }),
  },
  '/api/v1/pricing': {
    get: operation('get', {
      tag: 'Pricing',
      summary: 'The org\'s pricing in force now',
      description: 'Credits per USD, markup, volume discounts, estimate settings, the price of unknown models, the org\'s own model prices and the history of its versions.',
      scopes: ['read'],
      ok: { status: 200, description: 'The org\'s pricing', schema: 'OrgPricing' },
    }),
    post: operation('post', {
      tag: 'Pricing',
      summary: 'Write a new version of the org\'s prices',
      description: 'What the body leaves out is carried over from the latest version; `models` replaces the whole list of the org\'s own prices. Effective now or at `effective_at`. Prices must be greater than 0.',
      scopes: ['admin'],
      body: 'OrgPricingRequest',
      ok: { status: 201, description: 'The new version', schema: 'PriceVersionCreated' },
    }),
  },
  '/api/v1/estimate': {
    post: operation('post', {
      tag: 'Metering',
      summary: 'Estimate what a request to a model will cost',
      description: 'Input tokens are counted with the model\'s own encoding for OpenAI models, else with o200k_base plus the org\'s margin; output tokens are the least of max_output_tokens, the model\'s maximum output and the org\'s cap. Nothing is held, so a repeat is always safe.',
      scopes: ['meter', 'read'],
      body: 'EstimateRequest',
      ok: { status: 200, description: 'The estimate', schema: 'Estimate' },
    }),
  },
  '/api/v1/transactions': {
    get: operation('get', {
      tag: 'Credits',
      summary: 'The journal, newest first',
      scopes: ['read', 'meter'],
      parameters: [
        query('user', 'Only transactions touching this member'),
        query('kind', 'Only this kind', { type: 'string', enum: (schemas.Transaction as { properties: { kind: { enum: string[] } } }).properties.kind.enum }),
        query('from', 'Created at or after', { type: 'string', format: 'date-time' }),
        query('to', 'Created before', { type: 'string', format: 'date-time' }),
        query('cursor', 'next_cursor of the previous page'),
        query('limit', 'Page size', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
      ],
      ok: { status: 200, description: 'A page of transactions', schema: 'TransactionPage' },
      errors: [404, 422],
    }),
  },
  '/api/v1/policy': {
    get: operation('get', {
      tag: 'Policy',
      summary: 'The org\'s credit policy',
      scopes: ['read'],
      ok: { status: 200, description: 'The policy', schema: 'OrgPolicy' },
    }),
    put: operation('put', {
      tag: 'Policy',
      summary: 'Change the org\'s credit policy',
      scopes: ['admin'],
      body: 'OrgPolicyUpdate',
      ok: { status: 200, description: 'The policy after the change', schema: 'OrgPolicy' },
    }),
  },
};

const responses = Object.fromEntries(
  Object.values(errorResponses).map(([name, description]) => [
    name,
    {
      description,
      headers: {
        'x-request-id': { $ref: '#/components/headers/RequestId' },
        ...(name === 'RateLimited' && { 'retry-after': { schema: { type: 'integer' }, description: 'Seconds to wait' } }),
        ...(name === 'Unauthenticated' && { 'www-authenticate': { schema: { type: 'string', const: 'Bearer' } } }),
      },
      content: { 'application/json': { schema: schemaRef('Error') } },
    },
  ]),
);

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Credits API',
    version: '1.0.0',
    description:
      'Prepaid credits for LLM usage: org pools, member allocations, reservations and metered usage. Amounts are decimal strings of credits with at most 6 fractional digits, never JSON numbers. Errors are `{"error": {"code", "message", "details?"}}`; every response carries `x-request-id`.',
  },
  servers: [{ url: '/' }],
  security: [{ apiKey: [] }],
  tags: [
    { name: 'Metering', description: 'Reservations and usage, for LLM backends' },
    { name: 'Credits', description: 'Grants, allocations, transfers, balances and the journal' },
    { name: 'Policy', description: 'How the org hands out and limits credits' },
    { name: 'Pricing', description: 'Model prices, the org\'s rate, markup and discounts' },
    { name: 'Keys and users', description: 'API keys and the org\'s users' },
    { name: 'OpenAI-compatible proxy', description: 'OpenAI SDKs pointed at /api/v1/openai, metered per request' },
    { name: 'Operations', description: 'Health and this document' },
  ],
  paths: { ...paths, ...proxyPaths },
  components: {
    securitySchemes: {
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key of the org: `Authorization: Bearer cr_...`. Scopes: admin (everything), meter, read.',
      },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes a write safe to retry: the same key with the same request answers the stored response (kept at least 24 hours) without repeating the effect; with another request it answers 422 idempotency_mismatch. 1 to 255 printable ASCII characters, unique per org.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    },
    headers: {
      RequestId: { description: 'Identifies the request in the logs', schema: { type: 'string' } },
    },
    responses,
    schemas: {
      ...schemas,
      ...proxySchemas,
      OpenApiDocument: { type: 'object', description: 'An OpenAPI 3.1 document', additionalProperties: true },
    },
  },
} as const;
