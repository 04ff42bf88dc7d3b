import { describe, expect, it } from 'vitest';
import { estimateInputTokens, estimateTokensFromChars, maxOutputTokens, usageFromOpenAi } from './usage.ts';

describe('usageFromOpenAi', () => {
  it('reads prompt, completion, cached and reasoning tokens', () => {
    expect(
      usageFromOpenAi({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } }),
    ).toEqual({ input_tokens: 10, output_tokens: 5, cached_input_tokens: 4, reasoning_tokens: 2 });
  });

  it('reads embeddings usage and refuses what is not usage', () => {
    expect(usageFromOpenAi({ prompt_tokens: 7, total_tokens: 7 })).toEqual({ input_tokens: 7, output_tokens: 0 });
    expect(usageFromOpenAi(null)).toBeNull();
    expect(usageFromOpenAi({ completion_tokens: 3 })).toBeNull();
    expect(usageFromOpenAi({ prompt_tokens: -1 })).toBeNull();
  });
});

describe('estimates', () => {
  it('counts a token per three characters, rounded up', () => {
    expect(estimateTokensFromChars(0)).toBe(0);
    expect(estimateTokensFromChars(1)).toBe(1);
    expect(estimateTokensFromChars(9)).toBe(3);
    expect(estimateTokensFromChars(10)).toBe(4);
  });

  it('estimates messages, prompts, embedding inputs and token-id inputs', () => {
    expect(estimateInputTokens({ model: 'm', messages: [{ role: 'user', content: 'abcdef' }, { role: 'user', content: [{ type: 'text', text: 'abc' }] }] })).toBe(4 + 2 + 4 + 1);
    expect(estimateInputTokens({ model: 'm', prompt: 'abcdefghi' })).toBe(3);
    expect(estimateInputTokens({ model: 'm', input: ['abc', 'abcdef'] })).toBe(3);
    expect(estimateInputTokens({ model: 'm', input: [1, 2, 3, 4] })).toBe(4);
    expect(estimateInputTokens({ model: 'm', input: [[1, 2], [3]] })).toBe(3);
  });

  it('takes the output limit from max_completion_tokens or max_tokens', () => {
    expect(maxOutputTokens({ model: 'm', max_tokens: 100 })).toBe(100);
    expect(maxOutputTokens({ model: 'm', max_tokens: 100, max_completion_tokens: 50 })).toBe(50);
    expect(maxOutputTokens({ model: 'm' })).toBeUndefined();
  });
});
