import { describe, expect, it } from 'vitest';
import { countInputTokens, knownMaxOutputTokens, openaiEncoding } from './tokens.ts';

describe('countInputTokens', () => {
  it('counts OpenAI models with their own encoding, with chat framing', async () => {
    // "hello world" is 2 tokens in o200k_base and cl100k_base.
    expect(await countInputTokens('gpt-4o', { prompt: 'hello world' }, 2000)).toEqual({ tokens: 2, encoding: 'o200k_base', margin_bps: 0 });
    // 3 (reply priming) + 3 (message) + 1 ("user") + 2
    expect((await countInputTokens('gpt-4o', { messages: [{ role: 'user', content: 'hello world' }] }, 2000)).tokens).toBe(9);
    expect((await countInputTokens('gpt-4o', { input: [{ role: 'user', content: [{ type: 'text', text: 'hello world' }] }] }, 0)).tokens).toBe(9);
    // a name adds 1 + its tokens
    expect(await countInputTokens('gpt-4', { messages: [{ role: 'user', content: 'hello world', name: 'ada' }] }, 0)).toEqual({
      tokens: 11,
      encoding: 'cl100k_base',
      margin_bps: 0,
    });
  });

  it('counts other families with o200k_base plus the margin, rounded up', async () => {
    // 9 × 1.2 = 10.8 -> 11
    expect(await countInputTokens('claude-sonnet-4-5', { messages: [{ role: 'user', content: 'hello world' }] }, 2000)).toEqual({
      tokens: 11,
      encoding: 'o200k_base',
      margin_bps: 2000,
    });
    expect((await countInputTokens('llama-3', { prompt: 'hello world' }, 0)).tokens).toBe(2);
  });

  it('counts Responses API items, with or without a role', async () => {
    const items = [
      { role: 'user', content: [{ type: 'input_text', text: 'hello world' }] },
      { type: 'function_call_output', call_id: 'c1', output: 'hello world' },
    ];
    // 3 + (3 + 1 + 2) + (3 + 2)
    expect((await countInputTokens('gpt-4o', { input: items }, 0)).tokens).toBe(14);
  });

  it('treats special-token text as plain text', async () => {
    expect((await countInputTokens('gpt-4o', { prompt: '<|endoftext|>' }, 0)).tokens).toBeGreaterThan(1);
  });

  it('knows OpenAI encodings and maximum outputs', () => {
    expect(openaiEncoding('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(openaiEncoding('o3')).toBe('o200k_base');
    expect(openaiEncoding('mistral-large')).toBeNull();
    expect(knownMaxOutputTokens('gpt-4o')).toBe(16384);
    expect(knownMaxOutputTokens('claude-opus-4-1')).toBeNull();
  });
});
