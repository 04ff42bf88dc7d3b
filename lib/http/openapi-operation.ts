/**
 * Building blocks of the OpenAPI document (openapi.ts): references, the error responses every operation may
 * give, and `operation`, which turns a short spec (summary, scopes, body, success) into an operation with its
 * scopes described, its error responses listed and, for writes, the Idempotency-Key parameter.
 */

export type Json = Record<string, unknown>;
export type Scope = 'admin' | 'meter' | 'read';

export const schemaRef = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
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
  503: ['Unavailable', 'The database cannot be reached (unavailable); retry after the Retry-After header, with the same Idempotency-Key'],
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
  /** Other success answers (a repeat answered 200 where the first was 201, say). */
  alsoOk?: Array<{ status: number; description: string; schema: string }>;
  errors?: number[];
  /** false: a POST that changes nothing, so it takes no Idempotency-Key. */
  idempotent?: boolean;
};

export function operation(method: 'get' | 'post' | 'put' | 'delete', spec: OperationSpec): Json {
  const authErrors = spec.scopes === null ? [] : [401, 403];
  const bodyErrors = spec.body ? [400, 422] : [];
  const codes = [...new Set([...authErrors, ...bodyErrors, ...(spec.errors ?? []), ...(spec.scopes ? [429] : []), 500, 503])];
  const responses: Json = {};
  for (const ok of [spec.ok, ...(spec.alsoOk ?? [])]) {
    responses[ok.status] = {
      description: ok.description,
      headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' } },
      content: { 'application/json': { schema: schemaRef(ok.schema) } },
    };
  }
  for (const code of codes.sort((a, b) => a - b)) responses[code] = responseRef(errorResponses[code][0]);
  const takesKey = (method === 'post' || method === 'put') && spec.idempotent !== false;
  const parameters = [...(spec.parameters ?? []), ...(takesKey ? [paramRef('IdempotencyKey')] : [])];
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

export const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
export const userQuery = query('user', 'A member (user id or external id); the org pool when absent');

/** The error responses, as components the operations refer to. */
export const errorResponseComponents = Object.fromEntries(
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
