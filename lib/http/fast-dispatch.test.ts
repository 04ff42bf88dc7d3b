import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFastDispatch, MAX_BODY_BYTES } from './fast-dispatch.ts';
import { json } from './route.ts';

let server: Server;
let base: string;
let aborts = 0;

beforeAll(async () => {
  const dispatch = createFastDispatch(
    [
      {
        method: 'POST',
        path: '/api/v1/things/:id/act',
        handler: async (req, ctx) =>
          json(
            {
              id: (await ctx!.params).id,
              url: req.url,
              method: req.method,
              auth: req.headers.get('authorization'),
              hasAuth: req.headers.has('Authorization'),
              missing: req.headers.get('x-absent'),
              body: req.body === null ? null : await req.text(),
            },
            201,
            { 'x-extra': 'yes' },
          ),
      },
      { method: 'GET', path: '/api/v1/boom', handler: async () => Promise.reject(new Error('broken')) },
      { method: 'POST', path: '/api/v1/echo-json', handler: async (req) => json({ parsed: await req.json() }) },
      { method: 'GET', path: '/api/v1/kept', handler: async () => json({ word: 'héllo' }, 202) },
      { method: 'GET', path: '/api/v1/plain', handler: async () => Response.json({ word: 'héllo' }, { status: 202 }) },
      {
        method: 'GET',
        path: '/api/v1/stream',
        handler: async (req) => {
          // Three events, the last only after the client has seen the first two; records a client that left.
          let step = 0;
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              if (req.signal.aborted) {
                aborts++;
                controller.close();
                return;
              }
              step++;
              controller.enqueue(new TextEncoder().encode(`data: ${step}\n\n`));
              if (step === 3) controller.close();
              else await new Promise((r) => setTimeout(r, 50));
            },
          });
          req.signal.addEventListener('abort', () => aborts++);
          return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
        },
      },
    ],
    'http://127.0.0.1:1',
  );
  server = createServer((req, res) => {
    if (dispatch(req, res)) return;
    res.statusCode = 299;
    res.end('fallback');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createFastDispatch', () => {
  it('serves a matching route with its params, headers, query and body, and the handler status and headers', async () => {
    const res = await fetch(`${base}/api/v1/things/abc%20d/act?x=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await res.json()).toEqual({
      id: 'abc d',
      url: 'http://127.0.0.1:1/api/v1/things/abc%20d/act?x=1',
      method: 'POST',
      auth: 'Bearer k',
      hasAuth: true,
      missing: null,
      body: '{"a":1}',
    });
  });

  it('parses a JSON body for the handler', async () => {
    const res = await fetch(`${base}/api/v1/echo-json`, { method: 'POST', body: '{"n":[1,2]}' });
    expect(await res.json()).toEqual({ parsed: { n: [1, 2] } });
  });

  it('writes a JSON answer with its length in bytes, whether or not the server kept its text', async () => {
    for (const path of ['/api/v1/kept', '/api/v1/plain']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(202);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength('{"word":"héllo"}')));
      expect(await res.json()).toEqual({ word: 'héllo' });
    }
  });

  it('gives the handler no body when the request has none', async () => {
    const res = await fetch(`${base}/api/v1/things/1/act`, { method: 'POST' });
    expect((await res.json()).body).toBeNull();
  });

  it('leaves other methods, paths, trailing slashes and empty params to the next handler', async () => {
    for (const [method, p] of [
      ['GET', '/api/v1/things/1/act'],
      ['POST', '/api/v1/things/1/act/'],
      ['POST', '/api/v1/things//act'],
      ['POST', '/api/v1/other'],
    ]) {
      const res = await fetch(`${base}${p}`, { method });
      expect(res.status, `${method} ${p}`).toBe(299);
      expect(await res.text()).toBe('fallback');
    }
  });

  it('answers 413 payload_too_large to a body announced over the limit, without reading it', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/api/v1/things/1/act`, {
        method: 'POST',
        headers: { 'content-length': String(MAX_BODY_BYTES + 1) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('x');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe('payload_too_large');
  });

  it('passes a streamed answer on chunk by chunk', async () => {
    const res = await fetch(`${base}/api/v1/stream`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    // The first event arrives on its own, before the handler has produced the rest.
    expect(first).toBe('data: 1\n\n');
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('data: 2\n\ndata: 3\n\n');
  });

  it("aborts the request's signal when the client goes away mid-answer", async () => {
    const before = aborts;
    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/stream`, { signal: controller.signal });
    await res.body!.getReader().read();
    controller.abort();
    await expect.poll(() => aborts, { timeout: 2_000 }).toBeGreaterThan(before);
  });

  it('answers a generic 500 when a handler throws', async () => {
    const res = await fetch(`${base}/api/v1/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
  });
});
