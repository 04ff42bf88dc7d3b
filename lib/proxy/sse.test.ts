import { describe, expect, it } from 'vitest';
import { SseObserver } from './sse.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const event = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const usageChunk = { choices: [], usage: { prompt_tokens: 3, completion_tokens: 6 } };

describe('SseObserver', () => {
  it('passes complete events on as they arrive, even split across chunks', () => {
    const o = new SseObserver(false);
    const text = event({ choices: [{ delta: { content: 'hello' } }] }) + event({ choices: [{ delta: { content: ' world' } }] });
    const first = o.push(enc.encode(text.slice(0, 20)));
    expect(first.length).toBe(0);
    expect(dec.decode(o.push(enc.encode(text.slice(20))))).toBe(text);
    expect(o.generatedChars).toBe(11);
    expect(o.estimatedOutputTokens).toBe(4);
  });

  it('keeps the unfinished part of an event whole after the chunk it came in is overwritten', () => {
    const o = new SseObserver(false);
    const text = event({ choices: [{ delta: { content: 'hello' } }] });
    const first = Buffer.from(text.slice(0, 20));
    expect(o.push(first).length).toBe(0);
    first.fill(0);
    expect(dec.decode(o.push(Buffer.from(text.slice(20))))).toBe(text);
  });

  it('records the usage and drops the usage-only chunk only when asked to', () => {
    const stream = event({ choices: [{ delta: { content: 'abc' } }] }) + event(usageChunk) + event('[DONE]');
    const dropping = new SseObserver(true);
    expect(dec.decode(dropping.push(enc.encode(stream)))).toBe(event({ choices: [{ delta: { content: 'abc' } }] }) + event('[DONE]'));
    expect(dropping.usage).toEqual({ input_tokens: 3, output_tokens: 6 });
    expect(dropping.sawDone).toBe(true);
    const keeping = new SseObserver(false);
    expect(dec.decode(keeping.push(enc.encode(stream)))).toBe(stream);
  });

  it('counts tool-call arguments, reasoning and completion text, and keeps multi-byte characters whole', () => {
    const o = new SseObserver(false);
    const bytes = enc.encode(
      event({ choices: [{ delta: { tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }] } }] }) +
        event({ choices: [{ delta: { reasoning_content: 'hmm' } }] }) +
        event({ choices: [{ text: 'héllo' }] }),
    );
    const out = [o.push(bytes.slice(0, bytes.length - 12)), o.push(bytes.slice(bytes.length - 12))];
    expect(out.map((b) => dec.decode(b)).join('')).toBe(dec.decode(bytes));
    expect(o.generatedChars).toBe(1 + 7 + 3 + 5);
  });

  it('passes an unterminated last event and comments through', () => {
    const o = new SseObserver(true);
    expect(dec.decode(o.push(enc.encode(': keep-alive\n\n')))).toBe(': keep-alive\n\n');
    o.push(enc.encode('data: [DONE]'));
    expect(dec.decode(o.flush())).toBe('data: [DONE]');
  });
});
