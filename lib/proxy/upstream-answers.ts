/**
 * Turning an upstream's answer into the proxy's: the usage of a JSON answer that carried none (estimated
 * from its text), and upstream errors as the client should see them. A client mistake the upstream found
 * (400, 404, 413, 422) and the upstream's own rate limit (429) pass through as the upstream said them; the
 * upstream refusing the proxy's credentials or failing (401, 403, 5xx) is a 502, since the client can do
 * nothing about it.
 */
import { AppError } from '../http/errors.ts';
import { textResponse } from '../http/known-body.ts';
import type { Forwarded } from './forward.ts';
import { openAiErrorResponse } from './openai-errors.ts';
import { estimateTokensFromChars, type TokenUsage } from './usage.ts';

export function usageOfJson(text: string, inputEstimate: number): TokenUsage {
  let chars = 0;
  try {
    const body = JSON.parse(text) as { choices?: { message?: { content?: unknown }; text?: unknown }[] };
    for (const choice of body.choices ?? []) {
      if (typeof choice.message?.content === 'string') chars += choice.message.content.length;
      if (typeof choice.text === 'string') chars += choice.text.length;
    }
  } catch {
    chars = text.length;
  }
  return { input_tokens: inputEstimate, output_tokens: estimateTokensFromChars(chars) };
}

const passedStatuses = new Set([400, 404, 409, 413, 422, 429]);

function isOpenAiError(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string';
  } catch {
    return false;
  }
}

export function upstreamErrorResponse(result: Extract<Forwarded, { kind: 'upstream_error' }>): Response {
  if (passedStatuses.has(result.status) && isOpenAiError(result.text)) {
    const headers = new Headers({ 'content-type': 'application/json' });
    if (result.retryAfter) headers.set('retry-after', result.retryAfter);
    return textResponse(result.text, { status: result.status, headers });
  }
  if (result.status === 429) return openAiErrorResponse(new AppError('rate_limited', 'The upstream is rate limiting requests', { retryAfterSeconds: Number(result.retryAfter) || 1 }));
  if (result.status === 401 || result.status === 403) {
    return openAiErrorResponse(new AppError('upstream_error', 'The upstream refused the credentials configured for it'));
  }
  if (result.status < 500) return openAiErrorResponse(new AppError('upstream_error', `The upstream refused the request (${result.status})`));
  return openAiErrorResponse(new AppError('upstream_error', `The upstream failed (${result.status})`));
}
