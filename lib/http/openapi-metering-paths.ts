/** Operations LLM backends meter with (reservations, usage, usage records) and pricing (models, prices, estimates). */
import { type Json, operation, query } from './openapi-operation.ts';

export const meteringPaths: Record<string, Json> = {
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
      ok: { status: 201, description: 'Charged', schema: 'UsageResult' },
      alsoOk: [{ status: 200, description: 'A duplicate: the event id was already recorded with the same content', schema: 'UsageResult' }],
      errors: [402, 404, 409],
    }),
  },
  '/api/v1/usage/batch': {
    post: operation('post', {
      tag: 'Metering',
      summary: 'Record up to 1000 usage events',
      description:
        'One answer per event, in order: charged, duplicate or rejected with the reason. An event rejected as `unavailable` was not recorded because part of the batch could not be written; send it again with the same id (it is charged once).',
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
      description: 'What the body leaves out is carried over from the version in force when it starts; `models` replaces the whole list of the org\'s own prices. Effective now or at `effective_at`. Prices must be greater than 0. The change is also carried into the versions scheduled to start later: each price or setting it changes is changed likewise in a scheduled version that left it as it was, and kept where that version sets it itself (such a version is replaced by a new one starting at the same time).',
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
      idempotent: false,
    }),
  },
};
