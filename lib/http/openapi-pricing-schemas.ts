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
  description: 'A chat message as sent to the model (role, content as a string or parts with text, optional name), or a Responses API input item',
  properties: {
    role: str(),
    content: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', additionalProperties: true } }, { type: 'null' }] },
    name: str(),
  },
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

const usdOrNull = (description: string): Schema => ({ ...usd(description), type: ['string', 'null'] });

const modelPrice: Schema = {
  type: 'object',
  properties: {
    provider: str(),
    model: str(),
    match: { type: 'object', additionalProperties: true, description: 'equals, starts_with, ends_with, contains, regex, or, and' },
    input: usd('USD per million input tokens'),
    output: usd('USD per million output tokens; "0" for a model priced by its input alone (embeddings)'),
    cached_input: usdOrNull('USD per million cache-read tokens; null: the input price'),
    cache_write: usdOrNull('USD per million cache-write tokens; null: the input price'),
    reasoning: usdOrNull('USD per million reasoning tokens; null: the output price'),
    request_fee: usdOrNull('USD per request'),
    tiers: {
      type: 'array',
      description: 'Long-context prices: for requests of more than `start` input tokens',
      items: { type: 'object', properties: { start: { type: 'integer' }, input: usd('USD'), output: usd('USD') }, required: ['start', 'input', 'output'] },
    },
    max_output_tokens: { type: ['integer', 'null'] },
  },
  required: ['provider', 'model', 'match', 'input', 'output', 'cached_input', 'cache_write', 'reasoning', 'request_fee', 'tiers', 'max_output_tokens'],
};

const positiveUsd = (description: string): Schema => str(description, { pattern: '^\\d+(\\.\\d{1,9})?$', examples: ['2.5'] });
const creditsPattern = '^\\d+(\\.\\d{1,6})?$';

export const pricingSchemas: Record<string, Schema> = {
  CatalogModel: modelPrice,
  CatalogPage: {
    type: 'object',
    properties: {
      catalog: { type: ['string', 'null'], description: 'The catalog release and import rules, e.g. genai-prices@0.1.8/2' },
      total: { type: 'integer' },
      data: { type: 'array', items: ref('CatalogModel') },
    },
    required: ['catalog', 'total', 'data'],
  },
  OrgPricing: {
    type: 'object',
    properties: {
      version_id: { type: ['string', 'null'], format: 'uuid', description: 'null: the defaults, no version of the org yet' },
      effective_at: { type: ['string', 'null'], format: 'date-time' },
      credits_per_usd: str('Credits one USD of list price buys (default 100: 1 credit = USD 0.01)'),
      markup_bps: { type: 'integer' },
      estimate_margin_bps: { type: 'integer' },
      estimate_output_cap: { type: 'integer' },
      default_price: {
        oneOf: [{ type: 'object', properties: { input: usd('USD'), output: usd('USD') }, required: ['input', 'output'] }, { type: 'null' }],
        description: 'The price of models no list knows; null: they are refused (unknown_model)',
      },
      discount_tiers: {
        type: 'array',
        items: { type: 'object', properties: { from_credits: str(), discount_bps: { type: 'integer' } }, required: ['from_credits', 'discount_bps'] },
      },
      models: { type: 'array', items: ref('CatalogModel') },
      history: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: str(undefined, { format: 'uuid' }),
            effective_at: str(undefined, { format: 'date-time' }),
            created_at: str(undefined, { format: 'date-time' }),
            note: { type: ['string', 'null'] },
            models: { type: 'integer' },
            scheduled: { type: 'boolean', description: 'Starts later' },
            replaced: { type: 'boolean', description: 'A version written later starts at the same time, so this one never applies' },
          },
          required: ['id', 'effective_at', 'created_at', 'note', 'models', 'scheduled', 'replaced'],
        },
      },
    },
    required: ['version_id', 'effective_at', 'credits_per_usd', 'markup_bps', 'estimate_margin_bps', 'estimate_output_cap', 'default_price', 'discount_tiers', 'models', 'history'],
  },
  OrgPricingRequest: {
    type: 'object',
    description: 'Only the fields given change; `models` replaces the whole list',
    properties: {
      credits_per_usd: str('Credits per USD, greater than 0', { pattern: creditsPattern }),
      markup_bps: { type: 'integer', minimum: -9999, maximum: 100_000 },
      estimate_margin_bps: { type: 'integer', minimum: 0, maximum: 100_000 },
      estimate_output_cap: { type: 'integer', minimum: 1, maximum: 10_000_000 },
      default_price: {
        oneOf: [{ type: 'object', properties: { input: positiveUsd('USD'), output: positiveUsd('USD') }, required: ['input', 'output'] }, { type: 'null' }],
      },
      discount_tiers: {
        type: 'array',
        maxItems: 20,
        items: {
          type: 'object',
          properties: { from_credits: str(undefined, { pattern: creditsPattern }), discount_bps: { type: 'integer', minimum: 1, maximum: 9999 } },
          required: ['from_credits', 'discount_bps'],
        },
      },
      models: {
        type: 'array',
        maxItems: 500,
        items: {
          type: 'object',
          properties: {
            provider: str(),
            model: modelField,
            match: { type: 'object', description: 'equals, starts_with, ends_with, contains, or, and (no regex); the exact name when absent' },
            input: positiveUsd('USD per million input tokens, greater than 0'),
            output: positiveUsd('USD per million output tokens, greater than 0; required unless input_only'),
            input_only: { type: 'boolean', description: 'A model priced by its input alone (embeddings, rerankers): no output or reasoning price, output tokens cost nothing' },
            cached_input: positiveUsd('USD per million cache-read tokens'),
            cache_write: positiveUsd('USD per million cache-write tokens'),
            reasoning: positiveUsd('USD per million reasoning tokens'),
            request_fee: str('USD per request', { pattern: '^\\d+(\\.\\d{1,9})?$' }),
            max_output_tokens: { type: 'integer', minimum: 1 },
            context_window: { type: 'integer', minimum: 1 },
          },
          required: ['model', 'input'],
        },
      },
      effective_at: str('When the version takes effect (now when absent; not in the past)', { format: 'date-time' }),
      note: str(undefined, { maxLength: 500 }),
    },
  },
  PriceVersionCreated: {
    type: 'object',
    properties: { id: str(undefined, { format: 'uuid' }), effective_at: str(undefined, { format: 'date-time' }) },
    required: ['id', 'effective_at'],
  },
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
