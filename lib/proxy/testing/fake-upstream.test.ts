import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';

let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: 'sk-fake' });
});
afterAll(() => upstream.close());

const post = (path: string, body: unknown, key = 'sk-fake') =>
  fetch(`${upstream.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('fake upstream', () => {
  it('answers a chat completion with deterministic usage', async () => {
    const res = await post('/chat/completions', { model: 'gpt-test', messages: [{ role: 'user', content: 'abcdefgh' }], max_tokens: 5 });
    const body = await res.json();
    expect(body.choices[0].message.content).toBe('tok '.repeat(5));
    expect(body.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  it('streams chunks and a final usage chunk only when asked', async () => {
    const res = await post('/chat/completions', { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const usage = JSON.parse(events.at(-2)!.slice(6));
    expect(usage).toMatchObject({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 12 } });
    const plain = await (await post('/chat/completions', { model: 'gpt-test', messages: [], stream: true })).text();
    expect(plain).not.toContain('"usage"');
  });

  it('serves completions, embeddings and models, and refuses a wrong key', async () => {
    expect((await (await post('/completions', { model: 'gpt-test', prompt: 'abcd', max_tokens: 2 })).json()).choices[0].text).toBe('tok tok ');
    expect((await (await post('/embeddings', { model: 'e', input: ['abcd', 'abcdefgh'] })).json()).usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect((await (await fetch(`${upstream.baseUrl}/models`, { headers: { authorization: 'Bearer sk-fake' } })).json()).data).toHaveLength(3);
    expect((await post('/models', {}, 'wrong')).status).toBe(401);
  });

  it('fails on demand and recovers', async () => {
    upstream.fail({ kind: 'status', status: 503 }, 1);
    const failed = await post('/chat/completions', { model: 'gpt-test', messages: [] });
    expect(failed.status).toBe(503);
    expect((await failed.json()).error.type).toBe('server_error');
    expect((await post('/chat/completions', { model: 'gpt-test', messages: [] })).status).toBe(200);
    upstream.fail({ kind: 'drop', afterChunks: 2 }, 1);
    const dropped = await post('/chat/completions', { model: 'gpt-test', messages: [], stream: true });
    await expect(dropped.text()).rejects.toThrow();
    upstream.fail({ kind: 'hang' }, 1);
    const hung = fetch(`${upstream.baseUrl}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-fake' }, body: '{}', signal: AbortSignal.timeout(100) });
    await expect(hung).rejects.toThrow(/timeout|aborted/i);
    upstream.recover();
  });
});
