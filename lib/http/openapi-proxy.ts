/**
 * The OpenAI-compatible proxy in the OpenAPI document. Its operations follow OpenAI's API rather than this
 * API's conventions: request and response bodies are OpenAI's, errors are OpenAI's `{"error": {"message",
 * "type", "code", "param"}}`, and there is no Idempotency-Key (a proxied LLM call is not repeatable).
 */
type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

const openAiError = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: ref('OpenAIError') } },
});

const meteringHeaders: Json = {
  'x-request-id': { $ref: '#/components/headers/RequestId' },
  'x-credits-charged': {
    description: 'Credits charged for this request (for a stream: what is held until it ends, then settled on its usage)',
    schema: { type: 'string' },
  },
  'x-credits-remaining': { description: "The end user's available credits after the hold or charge", schema: { type: 'string' } },
};

const errors: Json = {
  400: openAiError('Malformed request, or no end user (`user` in the body or the X-Credits-User header)'),
  401: openAiError('Missing, unknown or revoked API key'),
  402: openAiError('Not enough credits: `type` insufficient_quota'),
  403: openAiError('The API key lacks the meter scope'),
  422: openAiError('A model the org has no price for (`code` unknown_model)'),
  429: openAiError('A rate limit of the key or the end user; Retry-After says when to try again'),
  502: openAiError('The upstream failed'),
  503: openAiError("The upstream's circuit breaker is open, or the credit database is unreachable and the org fails closed"),
  504: openAiError('The upstream did not answer in time'),
};

const userHeader: Json = {
  name: 'X-Credits-User',
  in: 'header',
  required: false,
  description: 'The end user (user id or external id) when the body has no `user`',
  schema: { type: 'string' },
};

function proxied(summary: string, streams: boolean): Json {
  return {
    tags: ['OpenAI-compatible proxy'],
    summary,
    description: [
      'Forwarded to the org\'s upstream for the model (or the default upstream). Credits are held at the estimate before forwarding and charged at the usage the upstream reports; an upstream failure releases the hold, and a client that disconnects is charged what was consumed.',
      streams ? 'With `stream: true` the answer is server-sent events passed on chunk by chunk.' : '',
      'Scope: meter',
    ]
      .filter(Boolean)
      .join('\n\n'),
    parameters: [userHeader],
    requestBody: { required: true, content: { 'application/json': { schema: ref('OpenAIRequest') } } },
    responses: {
      200: {
        description: 'The upstream\'s answer',
        headers: meteringHeaders,
        content: {
          'application/json': { schema: ref('OpenAIResponse') },
          ...(streams && { 'text/event-stream': { schema: { type: 'string' } } }),
        },
      },
      ...errors,
    },
  };
}

export const proxyPaths: Record<string, Json> = {
  '/api/v1/openai/chat/completions': { post: proxied('Chat completions (OpenAI-compatible)', true) },
  '/api/v1/openai/completions': { post: proxied('Completions (OpenAI-compatible)', true) },
  '/api/v1/openai/embeddings': { post: proxied('Embeddings (OpenAI-compatible)', false) },
  '/api/v1/openai/models': {
    get: {
      tags: ['OpenAI-compatible proxy'],
      summary: 'Models reachable through the proxy (OpenAI-compatible)',
      description: 'The models of the org\'s upstreams and the default upstream.\n\nScope: meter',
      responses: {
        200: { description: 'An OpenAI model list', content: { 'application/json': { schema: ref('OpenAIResponse') } } },
        401: errors[401],
        403: errors[403],
        502: errors[502],
      },
    },
  },
};

export const proxySchemas: Record<string, Json> = {
  OpenAIRequest: {
    type: 'object',
    description: "An OpenAI request body (`model` and the endpoint's fields); `user` names the end user",
    required: ['model'],
    properties: { model: { type: 'string' }, user: { type: 'string' }, stream: { type: 'boolean' }, max_tokens: { type: 'integer' } },
    additionalProperties: true,
  },
  OpenAIResponse: { type: 'object', description: "The upstream's OpenAI response body", additionalProperties: true },
  OpenAIError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string', examples: ['insufficient_quota', 'invalid_request_error', 'rate_limit_exceeded'] },
          code: { type: ['string', 'null'] },
          param: { type: ['string', 'null'] },
        },
      },
    },
  },
};
