/**
 * The JSON Schemas of pricing at the API: model-based metering inputs, estimates and charge breakdowns,
 * matching lib/pricing and lib/ledger/model-inputs.ts. Prices are USD per million tokens as decimal strings.
 */
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...(description && { description }), ...extra });
const tokens = (description: string): Schema => ({ type: 'integer', minimum: 0, description });
const usd = (description: string): Schema => str(description, { pattern: '^\\d+(\\.\\d{1,15})?$', examples: ['2.5'] });

const message: Schema = {
  type: 'object',
  description: 'A chat message as sent to the model (role, content as a string or parts with text, optional name)',
  properties: {
    role: str(),
    content: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', additionalProperties: true } }, { type: 'null' }] },
    name: str(),
  },
  required: ['role'],
  additionalProperties: true,
};

export const modelField = str('The model the request goes to, as the provider names it (e.g. "gpt-4o")', { minLength: 1, maxLength: 200 });
export const providerField = str('The provider, when several price the same model name (e.g. "openai", "azure")');

export const tokenFields = {
  input_tokens: tokens('All input (prompt) tokens, including cached and cache-write tokens'),
  output_tokens: tokens('All output tokens, including reasoning tokens'),
  cached_input_tokens: tokens('Input tokens read from the prompt cache (part of input_tokens)'),
  cache_write_tokens: tokens('Input tokens written to the prompt cache (part of input_tokens)'),
  reasoning_tokens: tokens('Reasoning tokens (part of output_tokens); charged at the model\'s reasoning price if it has one'),
};

export const pricingSchemas: Record<string, Schema> = {
  EstimateRequestText: {
    type: 'object',
    description: 'What the request will send: exactly one of messages, input_tokens, prompt or input',
    properties: {
      messages: { type: 'array', items: message, minItems: 1 },
      input_tokens: tokens('Input tokens, when already counted'),
      prompt: str('A completion prompt'),
      input: { oneOf: [{ type: 'string' }, { type: 'array', items: message, minItems: 1 }], description: 'A Responses API input' },
      max_output_tokens: { type: 'integer', minimum: 1, description: 'The request\'s own output limit' },
    },
  },
  EstimateRequest: {
    allOf: [
      { type: 'object', properties: { model: modelField, provider: providerField }, required: ['model'] },
      ref('EstimateRequestText'),
    ],
  },
  ModelUsage: {
    type: 'object',
    properties: { model: modelField, provider: providerField, ...tokenFields },
    required: ['model', 'input_tokens', 'output_tokens'],
  },
  ChargeBreakdown: {
    type: 'object',
    properties: {
      lines: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kind: str(undefined, { enum: ['input', 'cached_input', 'cache_write', 'output', 'reasoning'] }),
            tokens: { type: 'integer' },
            usd_per_mtok: usd('The price applied, USD per million tokens'),
          },
          required: ['kind', 'tokens', 'usd_per_mtok'],
        },
      },
      tier_start: { type: ['integer', 'null'], description: 'The long-context tier applied (input tokens above this), if any' },
      request_fee_usd: usd('Fee per request, USD'),
      usd: usd('The exact list price of the request, USD'),
      micros_per_usd: str('The org\'s rate: micro-credits per USD'),
      markup_bps: { type: 'integer', description: 'Markup (negative: discount) in basis points' },
      discount_bps: { type: 'integer', description: 'Volume discount reached this month, in basis points' },
    },
    required: ['lines', 'tier_start', 'request_fee_usd', 'usd', 'micros_per_usd', 'markup_bps', 'discount_bps'],
  },
  UsageRecord: {
    type: 'object',
    properties: {
      id: str(undefined, { format: 'uuid' }),
      user: { type: ['string', 'null'], format: 'uuid' },
      api_key_id: { type: ['string', 'null'], format: 'uuid' },
      model: { type: ['string', 'null'], description: 'null for requests metered by amount' },
      provider: { type: ['string', 'null'] },
      ...tokenFields,
      cost: str('Credits charged', { pattern: '^\\d+(\\.\\d{1,6})?$' }),
      price_version_id: { type: ['string', 'null'], format: 'uuid' },
      org_price_version_id: { type: ['string', 'null'], format: 'uuid' },
      latency_ms: { type: ['integer', 'null'] },
      status: str(undefined, { enum: ['ok', 'error', 'cancelled'] }),
      request_id: { type: ['string', 'null'] },
      metadata: { type: 'object', additionalProperties: true },
      occurred_at: str(undefined, { format: 'date-time' }),
      transaction_id: { type: ['string', 'null'], format: 'uuid' },
      reservation_id: { type: ['string', 'null'], format: 'uuid' },
      usage_event_id: { type: ['string', 'null'], format: 'uuid' },
    },
    required: [
      'id', 'user', 'api_key_id', 'model', 'provider', ...Object.keys(tokenFields), 'cost', 'price_version_id',
      'org_price_version_id', 'latency_ms', 'status', 'request_id', 'metadata', 'occurred_at', 'transaction_id',
      'reservation_id', 'usage_event_id',
    ],
  },
  UsageRecordPage: {
    type: 'object',
    properties: {
      data: { type: 'array', items: ref('UsageRecord') },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page' },
    },
    required: ['data', 'next_cursor'],
  },
  Estimate: {
    type: 'object',
    properties: {
      model: str('The priced model (the catalog\'s name for it)'),
      provider: str(),
      input_tokens: { type: 'integer' },
      output_tokens: { type: 'integer', description: 'Least of max_output_tokens, the model\'s maximum output and the org\'s cap' },
      counted_with: str('"given", or the encoding input tokens were counted with'),
      margin_bps: { type: 'integer', description: 'Margin added to counted input tokens (models without their own tokenizer here)' },
      amount: str('Estimated cost in credits', { pattern: '^\\d+(\\.\\d{1,6})?$' }),
      price_version_id: str(undefined, { format: 'uuid' }),
      org_price_version_id: { type: ['string', 'null'], format: 'uuid' },
      breakdown: ref('ChargeBreakdown'),
    },
    required: ['model', 'provider', 'input_tokens', 'output_tokens', 'counted_with', 'margin_bps', 'amount', 'price_version_id', 'org_price_version_id', 'breakdown'],
  },
};
