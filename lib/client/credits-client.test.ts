import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreditsClient } from './credits-client.ts';
import { CreditsApiError } from './errors.ts';
import { backoffMs, retryAfterMs } from './transport.ts';

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: unknown };
type Reply = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let replies: Reply[] = [];

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${seen.length}`, ...headers });
  res.end(JSON.stringify(body));
};
const apiError = (status: number, code: string, headers: Record<string, string> = {}, details?: unknown) =>
  json(status, { error: { code, message: `${code} happened`, ...(details ? { details } : {}) } }, headers);
const hangUp: Reply = (_req, res) => res.socket?.destroy();

const reservation = { id: '11111111-1111-4111-8111-111111111111', status: 'active', amount: '2', expires_at: '2030-01-01T00:00:00.000Z', funded_by: 'user', balance: { available: '8', reserved: '2', total: '10', debt: '0' } };

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const entry = { method: req.method!, url: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
      seen.push(entry);
      const reply = replies.shift() ?? apiError(500, 'internal');
      reply(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  replies = [];
});

const client = (options: Partial<ConstructorParameters<typeof CreditsClient>[0]> = {}) =>
  new CreditsClient({ baseUrl, apiKey: 'cr_test', retryBaseDelayMs: 5, ...options });

describe('CreditsClient', () => {
  it('sends the key, JSON and an Idempotency-Key on writes', async () => {
    replies.push(json(201, reservation));
    const answer = await client().reserve({ user: 'u-1', amount: '2', metadata: { model: 'm' } });
    expect(answer).toEqual(reservation);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/reservations',
      body: { user: 'u-1', amount: '2', metadata: { model: 'm' } },
      headers: { authorization: 'Bearer cr_test', 'content-type': 'application/json' },
    });
    expect(seen[0].headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('retries 502/503/504 and network failures with the same Idempotency-Key', async () => {
    replies.push(apiError(503, 'unavailable'), hangUp, apiError(502, 'bad_gateway'), json(201, reservation));
    const answer = await client().reserve({ user: 'u-1', amount: '2' });
    expect(answer.id).toBe(reservation.id);
    expect(seen).toHaveLength(4);
    const keys = new Set(seen.map((s) => s.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBeTruthy();
  });

  it('gives each logical call its own key, or the caller\'s', async () => {
    replies.push(json(201, reservation), json(201, reservation), json(201, reservation));
    const c = client();
    await c.reserve({ user: 'u', amount: '1' });
    await c.reserve({ user: 'u', amount: '1' });
    await c.reserve({ user: 'u', amount: '1' }, { idempotencyKey: 'job-7' });
    const [a, b, mine] = seen.map((s) => s.headers['idempotency-key']);
    expect(a).not.toBe(b);
    expect(mine).toBe('job-7');
  });

  it('waits as long as Retry-After says on 429', async () => {
    replies.push(apiError(429, 'rate_limited', { 'retry-after': '1' }), json(200, { available: '1' }));
    const started = Date.now();
    await client().balance('u-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
    expect(seen[0].url).toBe('/api/v1/balance?user=u-1');
    expect(seen[0].headers['idempotency-key']).toBeUndefined();
  });

  it('does not wait for a Retry-After beyond its longest delay: the 429 is thrown', async () => {
    replies.push(apiError(429, 'rate_limited', { 'retry-after': '120' }));
    await expect(client({ maxRetryDelayMs: 1_000 }).balance()).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
    expect(seen).toHaveLength(1);
  });

  it('surfaces 402 as CreditsApiError insufficient_credits, without retrying', async () => {
    replies.push(apiError(402, 'insufficient_credits', {}, { available: '1', requested: '2' }));
    const err = await client().reserve({ user: 'u-1', amount: '2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditsApiError);
    expect(err).toMatchObject({
      status: 402,
      code: 'insufficient_credits',
      message: 'insufficient_credits happened',
      details: { available: '1', requested: '2' },
      requestId: 'req-1',
    });
    expect(seen).toHaveLength(1);
  });

  it('never retries a 422, another 4xx or a 500', async () => {
    for (const [status, code] of [[422, 'validation_failed'], [409, 'reservation_already_committed'], [404, 'not_found'], [500, 'internal']] as const) {
      seen = [];
      replies = [apiError(status, code), json(200, {})];
      await expect(client().commit(reservation.id, { amount: '1' })).rejects.toMatchObject({ status, code });
      expect(seen).toHaveLength(1);
    }
  });

  it('gives up after maxRetries retries with the last error', async () => {
    replies.push(apiError(503, 'unavailable'), apiError(503, 'unavailable'), apiError(504, 'timeout_upstream'));
    await expect(client({ maxRetries: 2 }).recordUsage({ id: 'e', user: 'u', amount: '1' })).rejects.toMatchObject({
      status: 504,
      code: 'timeout_upstream',
    });
    expect(seen).toHaveLength(3);
    replies.push(hangUp, hangUp);
    await expect(client({ maxRetries: 1 }).grant({ amount: '1', reason: 'x' })).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('times an attempt out and retries it', async () => {
    replies.push((_req, res) => setTimeout(() => json(201, reservation)(_req, res), 400), json(201, reservation));
    const answer = await client({ timeoutMs: 100 }).reserve({ user: 'u', amount: '2' });
    expect(answer.id).toBe(reservation.id);
    expect(seen).toHaveLength(2);
    expect(seen[0].headers['idempotency-key']).toBe(seen[1].headers['idempotency-key']);
  });

  it('maps a non-JSON error answer to http_error', async () => {
    replies.push((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<h1>Bad</h1>');
    });
    await expect(client().balance()).rejects.toMatchObject({ status: 400, code: 'http_error', requestId: null });
  });

  it('builds paths and query strings', async () => {
    replies.push(json(200, { data: [], next_cursor: null }), json(200, {}), json(200, {}));
    const c = client({ baseUrl: baseUrl.replace(/\/$/, '') });
    await c.transactions({ user: 'a b', kind: 'charge', from: new Date('2030-01-01T00:00:00Z'), limit: 10 });
    await c.release('id/../x');
    await c.recordUsageBatch([{ id: 'e1', user: 'u', amount: '0.5' }]);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1/transactions?user=a+b&kind=charge&from=2030-01-01T00%3A00%3A00.000Z&limit=10',
      'POST /api/v1/reservations/id%2F..%2Fx/release',
      'POST /api/v1/usage/batch',
    ]);
    expect(seen[1].body).toEqual({});
    expect(seen[2].body).toEqual({ events: [{ id: 'e1', user: 'u', amount: '0.5' }] });
  });
});

describe('withReservation', () => {
  it('commits the amount the work answers and returns its value', async () => {
    const committed = { id: reservation.id, status: 'committed', charged: '1.25', released: '0.75', transaction_id: 't', balance: reservation.balance };
    replies.push(json(201, reservation), json(200, committed));
    const result = await client().withReservation('u-1', '2', async (r) => {
      expect(r.id).toBe(reservation.id);
      return { amount: '1.25', value: 'the answer', metadata: { tokens: 10 } };
    });
    expect(result).toEqual({ value: 'the answer', reservation, commit: committed });
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/reservations', `/api/v1/reservations/${reservation.id}/commit`]);
    expect(seen[1].body).toEqual({ amount: '1.25', metadata: { tokens: 10 } });
  });

  it('releases the hold and rethrows when the work fails', async () => {
    replies.push(json(201, reservation), json(200, { id: reservation.id, status: 'released' }));
    const failure = new Error('model down');
    await expect(
      client().withReservation('u-1', '2', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/reservations', `/api/v1/reservations/${reservation.id}/release`]);
    // The failed call's usage record says so.
    expect(seen[1].body).toEqual({ status: 'error' });
  });

  it('rethrows the work\'s error even when the release fails', async () => {
    replies.push(json(201, reservation), apiError(409, 'reservation_expired'));
    await expect(client().withReservation('u', '2', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('does not run the work when the reservation is refused', async () => {
    replies.push(apiError(402, 'insufficient_credits'));
    let ran = false;
    await expect(
      client().withReservation('u', '2', async () => {
        ran = true;
        return { amount: '0', value: null };
      }),
    ).rejects.toMatchObject({ code: 'insufficient_credits' });
    expect(ran).toBe(false);
  });
});

describe('withModelReservation', () => {
  it('holds the estimate and commits the tokens for the server to price', async () => {
    const committed = { id: reservation.id, status: 'committed', charged: '0.4', released: '0.35', transaction_id: 't', balance: reservation.balance };
    replies.push(json(201, reservation), json(200, committed));
    const estimate = { messages: [{ role: 'user', content: 'hi' }], max_output_tokens: 500 };
    const result = await client().withModelReservation('u-1', { model: 'gpt-4o', estimate }, async () => ({
      usage: { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 200 },
      value: 'the answer',
    }));
    expect(result).toEqual({ value: 'the answer', reservation, commit: committed });
    expect(seen[0].body).toEqual({ user: 'u-1', model: 'gpt-4o', estimate });
    expect(seen[1].body).toEqual({ usage: { model: 'gpt-4o', input_tokens: 1000, cached_input_tokens: 400, output_tokens: 200 } });
  });

  it('releases the hold when the work fails', async () => {
    replies.push(json(201, reservation), json(200, { id: reservation.id, status: 'released' }));
    await expect(
      client().withModelReservation('u-1', { model: 'gpt-4o', estimate: { input_tokens: 10 } }, async () => Promise.reject(new Error('down'))),
    ).rejects.toThrow('down');
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/reservations', `/api/v1/reservations/${reservation.id}/release`]);
  });
});

describe('retry timing', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
  });

  it('backs off exponentially with jitter, capped', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const ceiling = Math.min(1_000, 100 * 2 ** attempt);
      const delay = backoffMs(attempt, 100, 1_000);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});
