/**
 * The request of a proxied call, parsed: the body (passed on to the upstream as it came, apart from stream
 * options), the fields the proxy itself needs, the end user (`user` in the body or the X-Credits-User header)
 * and the estimates used before the call. Errors are 400 invalid_request_error, naming the parameter.
 */
import { z } from 'zod';
import { AppError } from '../http/errors.ts';
import type { MeterRequest, ProxyEndpoint } from './meter.ts';
import { estimateInputTokens, maxOutputTokens, type ProxyRequestBody } from './usage.ts';

const tokens = z.number().int().min(0).max(10_000_000);
const bodySchema = z.looseObject({
  model: z.string().trim().min(1).max(200),
  user: z.string().trim().min(1).max(200).optional(),
  stream: z.boolean().optional(),
  max_tokens: tokens.nullish(),
  max_completion_tokens: tokens.nullish(),
  messages: z.array(z.unknown()).optional(),
});

export type ProxyRequest = {
  body: Record<string, unknown> & ProxyRequestBody;
  model: string;
  user: string;
  stream: boolean;
  meterRequest: MeterRequest;
  inputEstimate: number;
  /** Input and the most output the call may use, for the token rate limits. */
  tokenEstimate: number;
};

export function parseProxyRequest(text: string, endpoint: ProxyEndpoint, userHeader: string | null, defaultMaxOutputTokens: number): ProxyRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 'The request body must be valid JSON');
  }
  const parsed = bodySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.map(String).join('.') || null;
    throw new AppError('bad_request', `Invalid request: ${param ? `${param}: ` : ''}${issue?.message ?? 'malformed body'}`, { param });
  }
  const body = parsed.data as ProxyRequest['body'];
  if (endpoint === 'chat.completions' && !Array.isArray(body.messages)) {
    throw new AppError('bad_request', 'Invalid request: messages is required', { param: 'messages' });
  }
  if (endpoint === 'embeddings' && body.input === undefined) throw new AppError('bad_request', 'Invalid request: input is required', { param: 'input' });
  if (endpoint === 'completions' && body.prompt === undefined) throw new AppError('bad_request', 'Invalid request: prompt is required', { param: 'prompt' });
  const user = parsed.data.user ?? userHeader?.trim();
  if (!user || user.length > 200) {
    throw new AppError('bad_request', 'Name the end user: set `user` in the body or the X-Credits-User header', { param: 'user' });
  }
  const max = maxOutputTokens(body);
  const inputEstimate = estimateInputTokens(body);
  const stream = endpoint !== 'embeddings' && body.stream === true;
  return {
    body,
    model: parsed.data.model,
    user,
    stream,
    meterRequest: {
      model: parsed.data.model,
      ...(body.messages !== undefined && { messages: body.messages }),
      ...(body.prompt !== undefined && { prompt: body.prompt }),
      ...(body.input !== undefined && { input: body.input }),
      ...(max !== undefined && { max_tokens: max }),
    },
    inputEstimate,
    tokenEstimate: inputEstimate + (endpoint === 'embeddings' ? 0 : (max ?? defaultMaxOutputTokens)),
  };
}
