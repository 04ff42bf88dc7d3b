import { describe, expect, it } from 'vitest';
import { AppError } from '../http/errors.ts';
import { openAiErrorBody, openAiErrorResponse } from './openai-errors.ts';

describe('openAiErrorBody', () => {
  it('shapes insufficient credits as OpenAI insufficient_quota with 402', () => {
    expect(openAiErrorBody(new AppError('insufficient_credits', 'Not enough credits'))).toEqual({
      status: 402,
      body: { error: { message: 'Not enough credits', type: 'insufficient_quota', code: 'insufficient_quota', param: null } },
      retryAfter: null,
    });
  });

  it('gives rate limits a Retry-After and tells requests from tokens', async () => {
    const res = openAiErrorResponse(new AppError('rate_limited', 'Slow down', { retryAfterSeconds: 12.2, kind: 'tpm' }));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('13');
    expect(await res.json()).toEqual({ error: { message: 'Slow down', type: 'tokens', code: 'rate_limit_exceeded', param: null } });
    expect(openAiErrorBody(new AppError('rate_limited', 'x')).retryAfter).toBe(1);
  });

  it('names the parameter and a specific code when the error gives them', () => {
    expect(openAiErrorBody(new AppError('bad_request', 'Name the end user', { param: 'user' })).body.error).toMatchObject({ type: 'invalid_request_error', param: 'user' });
    expect(openAiErrorBody(new AppError('not_found', 'No such model', { param: 'model', openaiCode: 'model_not_found' })).body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('hides unknown errors behind a generic 500', () => {
    expect(openAiErrorBody(new Error('secret detail'))).toMatchObject({ status: 500, body: { error: { message: 'Internal server error', type: 'server_error' } } });
  });
});
