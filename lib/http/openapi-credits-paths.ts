/** Operations on users, API keys, credits (grants, allocations, transfers, balances, lots, the journal) and policy. */
import { type Json, operation, query, userQuery } from './openapi-operation.ts';
import { schemas } from './openapi-schemas.ts';

export const creditsPaths: Record<string, Json> = {
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
  '/api/v1/transactions': {
    get: operation('get', {
      tag: 'Credits',
      summary: 'The journal, newest first',
      scopes: ['read'],
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
