/**
 * Token usage as the proxy reports it to the meter, read from OpenAI's `usage` objects, and the estimates used
 * where no usage is known: before a call (rate limits, holds) and after a stream the client or the upstream
 * broke off before its usage arrived. Estimates count one token per three characters, rounded up: more than
 * the usual four characters per token of English, so text that tokenizes densely (code, other languages) is
 * not under-counted.
 */

export type TokenUsage = {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  reasoning_tokens?: number;
};

const CHARS_PER_TOKEN = 3;
/** Tokens a chat message costs beyond its text (role and framing). */
const PER_MESSAGE_TOKENS = 4;

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}

/** The usage of an OpenAI response or final stream chunk, or null when it has none. */
export function usageFromOpenAi(usage: unknown): TokenUsage | null {
  if (!usage || typeof usage !== 'object') return null;
  const u = usage as Record<string, unknown>;
  const input = count(u.prompt_tokens);
  if (input === undefined) return null;
  const output = count(u.completion_tokens) ?? 0;
  const cached = count((u.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
  const reasoning = count((u.completion_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens);
  return {
    input_tokens: input,
    output_tokens: output,
    ...(cached !== undefined && { cached_input_tokens: cached }),
    ...(reasoning !== undefined && { reasoning_tokens: reasoning }),
  };
}

export function estimateTokensFromChars(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / CHARS_PER_TOKEN);
}

function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textLength(v), 0);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.text === 'string') return v.text.length;
    if ('content' in v) return textLength(v.content);
    // Token-id inputs (arrays of numbers) are handled by the caller; other parts (images) count nothing here.
  }
  return 0;
}

export type ProxyRequestBody = {
  model: string;
  messages?: unknown[];
  prompt?: unknown;
  input?: unknown;
  max_tokens?: number;
  max_completion_tokens?: number;
};

/** The input tokens of a request, estimated from its text (messages, prompt or embedding input). */
export function estimateInputTokens(body: ProxyRequestBody): number {
  if (Array.isArray(body.messages)) {
    return body.messages.reduce((n: number, m) => n + PER_MESSAGE_TOKENS + estimateTokensFromChars(textLength(m)), 0);
  }
  const source = body.prompt ?? body.input;
  // Pre-tokenized input: an array of token ids, or of arrays of them.
  if (Array.isArray(source) && source.every((x) => typeof x === 'number')) return source.length;
  if (Array.isArray(source) && source.every((x) => Array.isArray(x))) return source.reduce((n: number, x) => n + (x as unknown[]).length, 0);
  return estimateTokensFromChars(textLength(source));
}

/** The most output tokens the request may produce, as it asked (undefined when it set no limit). */
export function maxOutputTokens(body: ProxyRequestBody): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}
