import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { json, readJson, route } from './route.ts';

const noParams = { params: Promise.resolve({}) };

describe('route', () => {
  it('echoes a sane incoming request id', async () => {
    const handler = route(async (_req, { requestId }) => json({ requestId }));
    const res = await handler(new Request('http://x/api/t', { headers: { 'x-request-id': 'abc-123' } }), noParams);
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(await res.json()).toEqual({ requestId: 'abc-123' });
  });

  it('replaces a missing or unsafe request id with a fresh uuid', async () => {
    const handler = route(async () => json({ ok: true }));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const plain = await handler(new Request('http://x/api/t'), noParams);
    expect(plain.headers.get('x-request-id')).toMatch(uuid);
    const unsafe = await handler(
      new Request('http://x/api/t', { headers: { 'x-request-id': 'a b<script>' } }),
      noParams,
    );
    expect(unsafe.headers.get('x-request-id')).toMatch(uuid);
    const huge = await handler(new Request('http://x/api/t', { headers: { 'x-request-id': 'a'.repeat(200) } }), noParams);
    expect(huge.headers.get('x-request-id')).toMatch(uuid);
  });

  it('maps AppErrors through the status table', async () => {
    const cases = [
      [new AppError('not_found', 'Nope'), 404],
      [new AppError('forbidden', 'No'), 403],
      [new AppError('conflict', 'Taken', { field: 'email' }), 409],
      [new AppError('validation_failed', 'Bad'), 422],
      [new AppError('insufficient_credits', 'Empty'), 402],
    ] as const;
    for (const [error, status] of cases) {
      const res = await route(async () => {
        throw error;
      })(new Request('http://x/api/t'), noParams);
      expect(res.status).toBe(status);
      const body = await res.json();
      expect(body.error.code).toBe(error.code);
      expect(body.error.message).toBe(error.message);
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it('sets Retry-After on rate_limited errors', async () => {
    const res = await route(async () => {
      throw new AppError('rate_limited', 'Slow down', { retryAfterSeconds: 2.5 });
    })(new Request('http://x/api/t'), noParams);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
  });

  it('answers 503 with Retry-After when the database cannot be reached, so clients retry', async () => {
    const res = await route(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432 postgres://secret@db'), { code: 'ECONNREFUSED' });
    })(new Request('http://x/api/t'), noParams);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'unavailable', message: 'The database is unavailable; try again shortly', details: { retryAfterSeconds: 5 } } });
    expect(text).not.toContain('secret');
  });

  it('hides unknown errors behind a generic 500', async () => {
    const res = await route(async () => {
      throw new Error('connection string postgres://secret@db');
    })(new Request('http://x/api/t'), noParams);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
    expect(text).not.toContain('secret');
  });

  it('passes awaited route params to the handler', async () => {
    const handler = route<{ id: string }>(async (_req, { params }) => json({ id: params.id }));
    const res = await handler(new Request('http://x/api/t/7'), { params: Promise.resolve({ id: '7' }) });
    expect(await res.json()).toEqual({ id: '7' });
  });
});

describe('readJson', () => {
  const schema = z.object({ name: z.string().min(1) });
  const post = (body: string) =>
    route(async (req) => json(await readJson(req, schema)))(
      new Request('http://x/api/t', { method: 'POST', body, headers: { 'content-type': 'application/json' } }),
      noParams,
    );

  it('returns 400 invalid_json for a body that is not JSON', async () => {
    for (const body of ['{"name":', '', 'not json']) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('invalid_json');
    }
  });

  it('returns 422 validation_failed with the issues for a body that does not fit', async () => {
    const res = await post('{"name":""}');
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.issues[0].path).toBe('name');
  });

  it('returns the parsed body', async () => {
    const res = await post('{"name":"Ada","extra":1}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'Ada' });
  });
});
