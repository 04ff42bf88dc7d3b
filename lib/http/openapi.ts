/**
 * The OpenAPI 3.1 description of the whole public API (/api/v1 and /api/health), served at
 * GET /api/v1/openapi.json. Written by hand next to the routes; a unit test fails when a route handler has no
 * operation here. Every POST takes an Idempotency-Key; every operation names its scopes.
 */
import { creditsPaths } from './openapi-credits-paths.ts';
import { meteringPaths } from './openapi-metering-paths.ts';
import { errorResponseComponents, operation, type Json } from './openapi-operation.ts';
import { proxyPaths, proxySchemas } from './openapi-proxy.ts';
import { schemas } from './openapi-schemas.ts';

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
};

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
  paths: { ...paths, ...creditsPaths, ...meteringPaths, ...proxyPaths },
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
    responses: errorResponseComponents,
    schemas: {
      ...schemas,
      ...proxySchemas,
      OpenApiDocument: { type: 'object', description: 'An OpenAPI 3.1 document', additionalProperties: true },
    },
  },
} as const;
