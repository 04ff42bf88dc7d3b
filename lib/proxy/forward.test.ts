import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamBreakers } from './circuit-breaker.ts';
import { ClientAbortedError, forward, upstreamBody, type ForwardOptions } from './forward.ts';
import { startFakeUpstream, type FakeUpstream } from './testing/fake-upstream.ts';

let fake: FakeUpstream;
let options: (body: Record<string, unknown>, extra?: Partial<ForwardOptions>) => ForwardOptions;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: 'sk-up' });
  const breakers = new UpstreamBreakers();
  options = (body, extra = {}) => ({
    upstream: { id: 'u1', name: 'u1', baseUrl: fake.baseUrl, apiKey: 'sk-up', modelPatterns: ['*'] },
    path: '/chat/completions',
    method: 'POST',
    body,
    clientSignal: new AbortController().signal,
    breakers,
    timeoutMs: 2000,
    ...extra,
  });
});
afterAll(() => fake.close());

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content: 'abcdefgh' }], ...extra });

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('upstreamBody', () => {
  it('asks for usage in streams and remembers whether the client did', () => {
    expect(upstreamBody({ stream: true })).toEqual({ body: { stream: true, stream_options: { include_usage: true } }, clientAskedUsage: false });
    expect(upstreamBody({ stream: true, stream_options: { include_usage: true } }).clientAskedUsage).toBe(true);
    expect(upstreamBody({ model: 'x' })).toEqual({ body: { model: 'x' }, clientAskedUsage: false });
  });
});

describe('forward', () => {
  it('sends the upstream key and returns a JSON answer with its usage', async () => {
    const result = await forward(options(chat({ max_tokens: 3 })));
    expect(result.kind).toBe('json');
    if (result.kind !== 'json') return;
    expect(JSON.parse(result.text).choices[0].message.content).toBe('tok tok tok ');
    expect(result.usage).toEqual({ input_tokens: 2, output_tokens: 3, cached_input_tokens: 0, reasoning_tokens: 0 });
    expect(fake.requests.at(-1)?.authorization).toBe('Bearer sk-up');
  });

  it('streams with usage asked from the upstream but kept from a client that did not ask', async () => {
    const result = await forward(options(chat({ stream: true })));
    if (result.kind !== 'stream') throw new Error(result.kind);
    expect(fake.requests.at(-1)?.body.stream_options).toEqual({ include_usage: true });
    const text = await readAll(result.body);
    expect(text).not.toContain('"usage"');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(await result.end).toEqual({ kind: 'completed', usage: { input_tokens: 2, output_tokens: 12, cached_input_tokens: 0, reasoning_tokens: 0 }, estimatedOutputTokens: 16 });
  });

  it('passes chunks on as they arrive, not when the stream ends', async () => {
    fake.setLatency(0, 40);
    try {
      const result = await forward(options(chat({ stream: true })));
      if (result.kind !== 'stream') throw new Error(result.kind);
      const reader = result.body.getReader();
      const started = performance.now();
      const first = await reader.read();
      expect(first.done).toBe(false);
      expect(performance.now() - started).toBeLessThan(200);
      await reader.cancel();
    } finally {
      fake.setLatency(0, 0);
    }
  });

  it('reports a client that went away mid-stream with the output streamed so far', async () => {
    fake.setLatency(0, 20);
    const client = new AbortController();
    try {
      const result = await forward(options(chat({ stream: true }), { clientSignal: client.signal }));
      if (result.kind !== 'stream') throw new Error(result.kind);
      const reader = result.body.getReader();
      for (let i = 0; i < 4; i++) await reader.read();
      client.abort();
      const end = await result.end;
      expect(end.kind).toBe('client_aborted');
      expect(end.usage).toBeNull();
      expect(end.estimatedOutputTokens).toBeGreaterThanOrEqual(1);
      expect(end.estimatedOutputTokens).toBeLessThanOrEqual(4);
    } finally {
      fake.setLatency(0, 0);
    }
  });

  it('reports a stream the upstream dropped', async () => {
    fake.fail({ kind: 'drop', afterChunks: 3 }, 1);
    const result = await forward(options(chat({ stream: true })));
    if (result.kind !== 'stream') throw new Error(result.kind);
    await expect(readAll(result.body)).rejects.toThrow();
    const end = await result.end;
    expect(end.kind).toBe('upstream_failed');
    expect(end.estimatedOutputTokens).toBe(4); // 3 pieces of 4 characters
  });

  it('returns upstream errors, and times out a hanging upstream', async () => {
    fake.fail({ kind: 'status', status: 400, message: 'bad model' }, 1);
    const error = await forward(options(chat()));
    expect(error).toMatchObject({ kind: 'upstream_error', status: 400 });
    fake.fail({ kind: 'hang' }, 1);
    await expect(forward(options(chat(), { timeoutMs: 100 }))).rejects.toMatchObject({ code: 'upstream_timeout' });
    await expect(forward(options(chat(), { upstream: { id: 'gone', name: 'gone', baseUrl: 'http://127.0.0.1:1/v1', apiKey: '', modelPatterns: [] } }))).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('ends a stream nobody reads when its timeout passes', async () => {
    const result = await forward(options(chat({ stream: true }), { timeoutMs: 100 }));
    if (result.kind !== 'stream') throw new Error(result.kind);
    expect((await result.end).kind).toBe('timed_out');
  });

  it('gives up at once when the client already left', async () => {
    const client = new AbortController();
    client.abort();
    await expect(forward(options(chat(), { clientSignal: client.signal }))).rejects.toBeInstanceOf(ClientAbortedError);
  });
  it('completes a call answered in one piece when its client leaves (the upstream bills it all the same)', async () => {
    fake.setLatency(150);
    const client = new AbortController();
    setTimeout(() => client.abort(), 30);
    const result = await forward(options(chat({ max_tokens: 2 }), { clientSignal: client.signal }));
    fake.setLatency(0);
    expect(result).toMatchObject({ kind: 'json', usage: { input_tokens: 2, output_tokens: 2 } });
  });

  it('does not count clients that leave a stream before its answer as upstream failures', async () => {
    const breakers = new UpstreamBreakers({ consecutiveFailures: 2, errorRate: { threshold: 0.9, size: 100, minimumCalls: 100 }, halfOpenAfterMs: 10_000 });
    fake.fail({ kind: 'hang' }, 5);
    for (let i = 0; i < 5; i++) {
      const client = new AbortController();
      setTimeout(() => client.abort(), 30);
      await expect(forward(options(chat({ stream: true }), { clientSignal: client.signal, breakers }))).rejects.toBeInstanceOf(ClientAbortedError);
    }
    expect(breakers.state('u1')).toBe('closed');
    // Timeouts are the upstream's: two in a row open it.
    fake.fail({ kind: 'hang' }, 2);
    for (let i = 0; i < 2; i++) await expect(forward(options(chat(), { timeoutMs: 50, breakers }))).rejects.toMatchObject({ code: 'upstream_timeout' });
    expect(breakers.state('u1')).toBe('open');
  });
});
