import { describe, expect, it } from 'vitest';
import { parseProxyRequest } from './request.ts';

const chat = (body: Record<string, unknown>, header: string | null = null) => parseProxyRequest(JSON.stringify(body), 'chat.completions', header, 1000);

describe('parseProxyRequest', () => {
  it('takes the end user from the body, else from the header', () => {
    expect(chat({ model: 'm', messages: [], user: 'ada' }).user).toBe('ada');
    expect(chat({ model: 'm', messages: [] }, ' bob ').user).toBe('bob');
    expect(chat({ model: 'm', messages: [], user: 'ada' }, 'bob').user).toBe('ada');
  });

  it('refuses a request without an end user, model or messages, naming the parameter', () => {
    expect(() => chat({ model: 'm', messages: [] })).toThrow(expect.objectContaining({ code: 'bad_request', details: { param: 'user' } }));
    expect(() => chat({ messages: [], user: 'a' })).toThrow(expect.objectContaining({ code: 'bad_request', details: { param: 'model' } }));
    expect(() => chat({ model: 'm', user: 'a' })).toThrow(expect.objectContaining({ details: { param: 'messages' } }));
    expect(() => parseProxyRequest('{', 'chat.completions', 'a', 10)).toThrow(expect.objectContaining({ code: 'invalid_json' }));
    expect(() => parseProxyRequest('{"model":"e"}', 'embeddings', 'a', 10)).toThrow(expect.objectContaining({ details: { param: 'input' } }));
  });

  it('estimates tokens for the rate limits and passes the metering fields', () => {
    const r = chat({ model: 'm', messages: [{ role: 'user', content: 'abcdef' }], max_tokens: 50, user: 'a', temperature: 0 });
    expect(r.inputEstimate).toBe(6);
    expect(r.tokenEstimate).toBe(56);
    expect(r.meterRequest).toEqual({ model: 'm', messages: [{ role: 'user', content: 'abcdef' }], max_tokens: 50 });
    expect(r.body.temperature).toBe(0);
    expect(chat({ model: 'm', messages: [], user: 'a' }).tokenEstimate).toBe(1000);
    expect(parseProxyRequest('{"model":"e","input":"abc","user":"u","stream":true}', 'embeddings', null, 1000)).toMatchObject({ tokenEstimate: 1, stream: false });
  });
});
