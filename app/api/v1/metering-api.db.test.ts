import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/lib/db/client.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { checkLedger } from '@/lib/ledger/queries.ts';
import { parseCredits } from '@/lib/money/credits.ts';
import { callJson, createTestMember, createTestOrg, type TestOrg } from '@/lib/test/api-fixture.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { POST as allocate } from './allocations/route.ts';
import { GET as balance } from './balance/route.ts';
import { POST as grant } from './grants/route.ts';
import { POST as reserve } from './reservations/route.ts';
import { GET as getReservation } from './reservations/[id]/route.ts';
import { POST as commit } from './reservations/[id]/commit/route.ts';
import { POST as release } from './reservations/[id]/release/route.ts';
import { POST as usage } from './usage/route.ts';
import { POST as usageBatch } from './usage/batch/route.ts';

let db: Db;
let org: TestOrg;
let other: TestOrg;
let ada: string;
let theirReservation: string;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'acme');
  other = await createTestOrg(db, 'other');
  ada = await createTestMember(db, org.id, 'ada');
  for (const name of ['bob', 'cyd', 'dan', 'eve']) await createTestMember(db, org.id, name);
  await createTestMember(db, other.id, 'stranger');
  await callJson(grant, '/api/v1/grants', { key: org.keys.admin, body: { amount: '1000', reason: 'Seed' } });
  for (const user of ['ada', 'bob', 'cyd', 'dan', 'eve']) {
    await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, body: { user, amount: '100' } });
  }
  await callJson(grant, '/api/v1/grants', { key: other.keys.admin, body: { user: 'stranger', amount: '10', reason: 'Seed' } });
  const theirs = await callJson(reserve, '/api/v1/reservations', { key: other.keys.meter, body: { user: 'stranger', amount: '1' } });
  theirReservation = theirs.body.id;
});

afterAll(async () => {
  for (const id of [org.id, other.id]) expect(await checkLedger(getLedgerContext(), id)).toEqual([]);
  await db.$disconnect();
});

const memberBalance = async (user: string) => (await callJson(balance, `/api/v1/balance?user=${user}`, { key: org.keys.meter })).body;
const reservationPath = (id: string, action = '') => `/api/v1/reservations/${id}${action}`;

describe('authentication and scopes of the metering routes', () => {
  const id = '00000000-0000-4000-8000-000000000000';
  const cases = [
    { name: 'POST /reservations', handler: reserve, path: '/api/v1/reservations', body: { user: 'ada', amount: '1' }, wrong: ['read'] },
    { name: 'GET /reservations/{id}', handler: getReservation, path: reservationPath(id), params: { id }, wrong: [] },
    { name: 'POST /reservations/{id}/commit', handler: commit, path: reservationPath(id, '/commit'), params: { id }, body: { amount: '1' }, wrong: ['read'] },
    { name: 'POST /reservations/{id}/release', handler: release, path: reservationPath(id, '/release'), params: { id }, body: {}, wrong: ['read'] },
    { name: 'POST /usage', handler: usage, path: '/api/v1/usage', body: { id: 'e', user: 'ada', amount: '1' }, wrong: ['read'] },
    { name: 'POST /usage/batch', handler: usageBatch, path: '/api/v1/usage/batch', body: { events: [{ id: 'e', user: 'ada', amount: '1' }] }, wrong: ['read'] },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: 401 without a key, 403 with a wrong scope`, async () => {
      const base = { body: 'body' in c ? c.body : undefined, params: 'params' in c ? c.params : undefined };
      expect((await callJson(c.handler, c.path, base)).status).toBe(401);
      for (const scope of c.wrong) {
        const res = await callJson(c.handler, c.path, { ...base, key: org.keys[scope] });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
    });
  }
});

describe('reservations', () => {
  it('reserves, shows, commits and repeats the commit', async () => {
    const created = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'ada', amount: '10', metadata: { model: 'gpt' } } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'active',
      amount: '10',
      expires_at: expect.any(String),
      funded_by: 'user',
      balance: { available: '90', reserved: '10', total: '100', debt: '0' },
    });
    const id = created.body.id;
    const shown = await callJson(getReservation, reservationPath(id), { key: org.keys.read, params: { id } });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id, status: 'active', user: ada, amount: '10', charged: null, metadata: { model: 'gpt' } });

    const path = reservationPath(id, '/commit');
    const first = await callJson(commit, path, { key: org.keys.meter, params: { id }, body: { amount: '3.25' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      id,
      status: 'committed',
      charged: '3.25',
      released: '6.75',
      transaction_id: expect.any(String),
      balance: { available: '96.75', reserved: '0', total: '96.75', debt: '0' },
    });
    const same = await callJson(commit, path, { key: org.keys.meter, params: { id }, body: { amount: '3.25' } });
    expect(same.status).toBe(200);
    expect(same.text).toBe(first.text);
    const different = await callJson(commit, path, { key: org.keys.meter, params: { id }, body: { amount: '4' } });
    expect(different.status).toBe(409);
    expect(different.body.error).toMatchObject({ code: 'reservation_already_committed', details: { charged: '3.25' } });
    expect((await memberBalance('ada')).available).toBe('96.75');
    const after = await callJson(getReservation, reservationPath(id), { key: org.keys.meter, params: { id } });
    expect(after.body).toMatchObject({ status: 'committed', charged: '3.25', released: '6.75', transaction_id: first.body.transaction_id });
  });

  it('releases a hold, with or without a body', async () => {
    // (An empty body arrives as an empty stream through Next's router.)
    for (const body of [undefined, {}, '']) {
      const created = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'ada', amount: '5' } });
      const id = created.body.id;
      const released = await callJson(release, reservationPath(id, '/release'), { key: org.keys.meter, params: { id }, body });
      expect(released.status).toBe(200);
      expect(released.body).toEqual({ id, status: 'released', released: '5', balance: expect.objectContaining({ reserved: '0', available: '96.75' }) });
      // Its usage record: a call that was cancelled, charged nothing.
      expect(await db.usageRecord.findUnique({ where: { reservationId: id } })).toMatchObject({ status: 'cancelled', cost: 0n });
      const commitAfter = await callJson(commit, reservationPath(id, '/commit'), { key: org.keys.meter, params: { id }, body: { amount: '1' } });
      expect(commitAfter.status).toBe(409);
      expect(commitAfter.body.error.code).toBe('reservation_already_released');
    }
  });

  it('keeps the request id, latency and status a backend tells on its commits, releases and usage events', async () => {
    await createTestMember(db, org.id, 'gus');
    await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, body: { user: 'gus', amount: '10' } });
    const held = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'gus', amount: '2' } });
    const facts = { request_id: 'req-commit', latency_ms: 840, status: 'ok' };
    expect((await callJson(commit, reservationPath(held.body.id, '/commit'), { key: org.keys.meter, params: { id: held.body.id }, body: { amount: '1', ...facts } })).status).toBe(200);
    const failed = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'gus', amount: '2' } });
    const failure = { request_id: 'req-failed', latency_ms: 120, status: 'error' };
    expect((await callJson(release, reservationPath(failed.body.id, '/release'), { key: org.keys.meter, params: { id: failed.body.id }, body: failure })).status).toBe(200);
    const event = { request_id: 'req-event', latency_ms: 55, status: 'cancelled' };
    expect((await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'facts-1', user: 'gus', amount: '0.5', ...event } })).status).toBe(201);
    const records = await db.usageRecord.findMany({ where: { orgId: org.id, requestId: { startsWith: 'req-' } }, orderBy: { requestId: 'asc' } });
    expect(records.map((r) => [r.requestId, r.latencyMs, r.status, r.cost])).toEqual([
      ['req-commit', 840, 'ok', 1_000_000n],
      ['req-event', 55, 'cancelled', 500_000n],
      ['req-failed', 120, 'error', 0n],
    ]);
    const bad = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'facts-2', user: 'gus', amount: '0.5', status: 'lost' } });
    expect(bad.status).toBe(422);
  });

  it('answers 402 when the member cannot cover the reservation', async () => {
    const res = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'ada', amount: '5000' } });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'insufficient_credits', details: { requested: '5000' } });
  });

  it('answers 409 reservation_expired for a commit after the reservation expired', async () => {
    const created = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'bob', amount: '2', ttl_seconds: 1 } });
    expect(created.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1_100));
    const id = created.body.id;
    const shown = await callJson(getReservation, reservationPath(id), { key: org.keys.meter, params: { id } });
    expect(shown.body.status).toBe('expired');
    const res = await callJson(commit, reservationPath(id, '/commit'), { key: org.keys.meter, params: { id }, body: { amount: '1' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('reservation_expired');
    expect(await memberBalance('bob')).toMatchObject({ available: '100', reserved: '0' });
  });

  it('answers 404 for another org\'s reservation or user, and a malformed id', async () => {
    for (const id of [theirReservation, 'not-a-uuid']) {
      expect((await callJson(getReservation, reservationPath(id), { key: org.keys.meter, params: { id } })).status).toBe(404);
      const committed = await callJson(commit, reservationPath(id, '/commit'), { key: org.keys.meter, params: { id }, body: { amount: '1' } });
      expect(committed.status).toBe(404);
      expect(committed.body.error.code).toBe('not_found');
      expect((await callJson(release, reservationPath(id, '/release'), { key: org.keys.meter, params: { id }, body: {} })).status).toBe(404);
    }
    const theirs = await callJson(getReservation, reservationPath(theirReservation), { key: other.keys.read, params: { id: theirReservation } });
    expect(theirs.body.status).toBe('active');
    expect((await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'stranger', amount: '1' } })).status).toBe(404);
  });

  it('answers 422 for bad bodies', async () => {
    for (const amount of ['1.5e3', '-1', '0.0000001', 5, '0']) {
      const res = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'ada', amount } });
      expect(res.status, JSON.stringify(amount)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
    for (const ttl of [0, 1.5, '60', 4000]) {
      expect((await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'ada', amount: '1', ttl_seconds: ttl } })).status).toBe(422);
    }
    const created = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'ada', amount: '1' } });
    const id = created.body.id;
    for (const amount of ['1.5e3', '-1', '0.0000001', 5]) {
      expect((await callJson(commit, reservationPath(id, '/commit'), { key: org.keys.meter, params: { id }, body: { amount } })).status).toBe(422);
    }
    expect((await callJson(release, reservationPath(id, '/release'), { key: org.keys.meter, params: { id }, body: {} })).status).toBe(200);
  });
});

describe('idempotent reservations', () => {
  it('answers 50 concurrent requests with one key with one reservation, byte for byte', async () => {
    const before = await memberBalance('cyd');
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, idempotencyKey: 'reserve-cyd', body: { user: 'cyd', amount: '1.5' } }),
      ),
    );
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    const membership = await db.membership.findFirstOrThrow({ where: { orgId: org.id, externalId: 'cyd' } });
    expect(await db.reservation.count({ where: { orgId: org.id, membershipId: membership.id } })).toBe(1);
    expect(await memberBalance('cyd')).toMatchObject({ reserved: '1.5', total: before.total });
    const mismatch = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, idempotencyKey: 'reserve-cyd', body: { user: 'cyd', amount: '2' } });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('idempotency_mismatch');
  });

  it('replays a commit and a release under their keys', async () => {
    const created = await callJson(reserve, '/api/v1/reservations', { key: org.keys.meter, body: { user: 'dan', amount: '4' } });
    const id = created.body.id;
    const send = () => callJson(commit, reservationPath(id, '/commit'), { key: org.keys.meter, idempotencyKey: 'c-1', params: { id }, body: { amount: '1' } });
    const [first, second] = [await send(), await send()];
    expect(first.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect((await memberBalance('dan')).available).toBe('99');
  });
});

describe('usage', () => {
  it('charges an event once: 201 charged, then 200 duplicate, 409 for other content', async () => {
    const event = { id: 'evt-1', user: 'eve', amount: '0.000001', metadata: { tokens: 3 } };
    const first = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: event });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: 'evt-1',
      status: 'charged',
      charged: '0.000001',
      transaction_id: expect.any(String),
      balance: { available: '99.999999', reserved: '0', total: '99.999999', debt: '0' },
    });
    const again = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: event });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'duplicate', transaction_id: first.body.transaction_id });
    const conflicting = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { ...event, amount: '2' } });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error.code).toBe('event_conflict');
    expect((await memberBalance('eve')).available).toBe('99.999999');
  });

  it('replays an event with its Idempotency-Key as the first answer (201)', async () => {
    const send = () => callJson(usage, '/api/v1/usage', { key: org.keys.meter, idempotencyKey: 'u-2', body: { id: 'evt-2', user: 'eve', amount: '1' } });
    const [first, second] = [await send(), await send()];
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.text).toBe(first.text);
  });

  it('answers 422 for bad events and 402 when the member cannot pay', async () => {
    for (const amount of ['1.5e3', '-1', '0.0000001', 5]) {
      expect((await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'bad', user: 'eve', amount } })).status).toBe(422);
    }
    expect((await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'bad', user: 'eve', amount: '1', timestamp: 'yesterday' } })).status).toBe(422);
    const broke = await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'big', user: 'eve', amount: '5000' } });
    expect(broke.status).toBe(402);
    expect((await callJson(usage, '/api/v1/usage', { key: org.keys.meter, body: { id: 'x', user: 'stranger', amount: '1' } })).status).toBe(404);
  });

  it('records a batch per event and charges a batch sent twice at once only once', async () => {
    const events = Array.from({ length: 20 }, (_, i) => ({ id: `b-${i}`, user: i % 2 ? 'eve' : 'ada', amount: '0.5' }));
    events.push({ id: 'b-unknown', user: 'nobody', amount: '1' });
    const eveBefore = await memberBalance('eve');
    const [a, b] = await Promise.all([
      callJson(usageBatch, '/api/v1/usage/batch', { key: org.keys.meter, body: { events } }),
      callJson(usageBatch, '/api/v1/usage/batch', { key: org.keys.meter, body: { events } }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const summaries = [a.body.summary, b.body.summary].sort((x, y) => y.charged - x.charged);
    expect(summaries).toEqual([
      { charged: 20, duplicate: 0, rejected: 1 },
      { charged: 0, duplicate: 20, rejected: 1 },
    ]);
    expect(a.body.results[20]).toMatchObject({ id: 'b-unknown', status: 'rejected', error: { code: 'not_found' } });
    const eveAfter = await memberBalance('eve');
    expect(parseCredits(eveBefore.available) - parseCredits(eveAfter.available)).toBe(5_000_000n);
  });

  it('replays a batch under its Idempotency-Key, also when sent twice at once', async () => {
    const events = Array.from({ length: 30 }, (_, i) => ({ id: `k-${i}`, user: ['ada', 'eve', 'dan'][i % 3], amount: '0.1' }));
    events.push({ id: 'k-unknown', user: 'nobody', amount: '1' });
    const adaBefore = await memberBalance('ada');
    const send = (body: unknown) => callJson(usageBatch, '/api/v1/usage/batch', { key: org.keys.meter, idempotencyKey: 'batch-1', body });
    const [a, b] = await Promise.all([send({ events }), send({ events })]);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(a.body.summary).toEqual({ charged: 30, duplicate: 0, rejected: 1 });
    expect(parseCredits(adaBefore.available) - parseCredits((await memberBalance('ada')).available)).toBe(1_000_000n);
    expect((await send({ events: events.slice(0, 1) })).status).toBe(422);
  });

  it('answers 422 for an empty batch, more than 1000 events or a bad event', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: `m-${i}`, user: 'ada', amount: '0' }));
    for (const body of [{ events: [] }, { events: many }, { events: [{ id: 'x', user: 'ada', amount: 1 }] }, {}]) {
      const res = await callJson(usageBatch, '/api/v1/usage/batch', { key: org.keys.meter, body });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});
