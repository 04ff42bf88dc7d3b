import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/lib/db/client.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { checkLedger } from '@/lib/ledger/queries.ts';
import { parseCredits } from '@/lib/money/credits.ts';
import { callJson, createTestMember, createTestOrg, type TestOrg } from '@/lib/test/api-fixture.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { POST as allocate } from './allocations/route.ts';
import { POST as reclaim } from './allocations/reclaim/route.ts';
import { GET as balance } from './balance/route.ts';
import { POST as grant } from './grants/route.ts';
import { GET as lots } from './lots/route.ts';
import { GET as openapi } from './openapi.json/route.ts';
import { GET as getPolicy, PUT as putPolicy } from './policy/route.ts';
import { GET as transactions } from './transactions/route.ts';
import { POST as transfer } from './transfers/route.ts';
import { GET as getMemberPolicy, PUT as putMemberPolicy } from './users/[user]/policy/route.ts';

let db: Db;
let org: TestOrg;
let other: TestOrg;
let ada: string;
let bob: string;
let stranger: string;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'acme');
  other = await createTestOrg(db, 'other');
  ada = await createTestMember(db, org.id, 'ada');
  bob = await createTestMember(db, org.id, 'bob');
  stranger = await createTestMember(db, other.id, 'stranger');
});

afterAll(async () => {
  expect(await checkLedger(getLedgerContext(), org.id)).toEqual([]);
  await db.$disconnect();
});

const poolBalance = async () => (await callJson(balance, '/api/v1/balance', { key: org.keys.read })).body;

describe('authentication and scopes of the credit routes', () => {
  const cases = [
    { name: 'POST /grants', handler: grant, path: '/api/v1/grants', body: { amount: '1', reason: 'x' }, wrong: ['meter', 'read'] },
    { name: 'POST /allocations', handler: allocate, path: '/api/v1/allocations', body: { user: 'ada', amount: '1' }, wrong: ['meter', 'read'] },
    { name: 'POST /allocations/reclaim', handler: reclaim, path: '/api/v1/allocations/reclaim', body: { user: 'ada', amount: '1' }, wrong: ['meter', 'read'] },
    { name: 'POST /transfers', handler: transfer, path: '/api/v1/transfers', body: { to_user: 'ada', amount: '1' }, wrong: ['meter', 'read'] },
    { name: 'GET /balance', handler: balance, path: '/api/v1/balance', wrong: [] },
    { name: 'GET /lots', handler: lots, path: '/api/v1/lots', wrong: ['meter'] },
    { name: 'GET /transactions', handler: transactions, path: '/api/v1/transactions', wrong: ['meter'] },
    { name: 'GET /policy', handler: getPolicy, path: '/api/v1/policy', wrong: ['meter'] },
    { name: 'PUT /policy', handler: putPolicy, path: '/api/v1/policy', method: 'PUT', body: {}, wrong: ['meter', 'read'] },
    { name: 'GET /users/{user}/policy', handler: getMemberPolicy, path: '/api/v1/users/ada/policy', params: { user: 'ada' }, wrong: ['meter', 'read'] },
    { name: 'PUT /users/{user}/policy', handler: putMemberPolicy, path: '/api/v1/users/ada/policy', params: { user: 'ada' }, method: 'PUT', body: {}, wrong: ['meter', 'read'] },
  ] as const;

  for (const c of cases) {
    it(`${c.name}: 401 without a key, 403 with a wrong scope`, async () => {
      const base = { method: 'method' in c ? c.method : undefined, body: 'body' in c ? c.body : undefined, params: 'params' in c ? c.params : undefined };
      const anonymous = await callJson(c.handler, c.path, base);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthenticated');
      for (const scope of c.wrong) {
        const res = await callJson(c.handler, c.path, { ...base, key: org.keys[scope] });
        expect(res.status, scope).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
    });
  }
});

describe('grants, allocations, reclaims and transfers', () => {
  it('grants to the pool and to a member', async () => {
    const pool = await callJson(grant, '/api/v1/grants', { key: org.keys.admin, body: { amount: '100', reason: 'Welcome' } });
    expect(pool.status).toBe(201);
    expect(pool.body).toEqual({
      transaction_id: expect.any(String),
      lot_id: expect.any(String),
      user: null,
      amount: '100',
      expires_at: null,
      balance: { available: '100', reserved: '0', total: '100', debt: '0' },
    });
    const expiresAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const member = await callJson(grant, '/api/v1/grants', {
      key: org.keys.admin,
      body: { user: 'ada', amount: '2.5', reason: 'Promo', expires_at: expiresAt, priority: 5 },
    });
    expect(member.status).toBe(201);
    expect(member.body).toMatchObject({ user: ada, amount: '2.5', expires_at: expiresAt, balance: { available: '2.5' } });
  });

  it('allocates from the pool, reclaims, and transfers between members and the pool', async () => {
    const allocated = await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, body: { user: bob, amount: '10' } });
    expect(allocated.status).toBe(201);
    expect(allocated.body).toMatchObject({
      kind: 'allocation',
      from_user: null,
      to_user: bob,
      amount: '10',
      from_balance: { available: '90' },
      to_balance: { available: '10' },
    });
    const reclaimed = await callJson(reclaim, '/api/v1/allocations/reclaim', { key: org.keys.admin, body: { user: 'bob', amount: '4' } });
    expect(reclaimed.status).toBe(201);
    expect(reclaimed.body).toMatchObject({ kind: 'reclaim', from_user: bob, to_user: null, amount: '4', to_balance: { available: '94' } });
    const moved = await callJson(transfer, '/api/v1/transfers', {
      key: org.keys.admin,
      body: { from_user: 'bob', to_user: 'ada', amount: '1.25', reason: 'Pairing' },
    });
    expect(moved.status).toBe(201);
    expect(moved.body).toMatchObject({ kind: 'transfer', from_user: bob, to_user: ada, from_balance: { available: '4.75' } });
    const tooMuch = await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, body: { user: 'bob', amount: '1000' } });
    expect(tooMuch.status).toBe(402);
    expect(tooMuch.body.error).toMatchObject({ code: 'insufficient_credits', details: { available: '94', requested: '1000' } });
    const noSides = await callJson(transfer, '/api/v1/transfers', { key: org.keys.admin, body: { amount: '1' } });
    expect(noSides.status).toBe(422);
  });

  it('answers 422 for amounts that are not decimal strings of at most 6 decimals, or not positive', async () => {
    for (const amount of ['1.5e3', '-1', '0.0000001', 12, '0', '', ' ', '1,5', null]) {
      for (const [handler, path, body] of [
        [grant, '/api/v1/grants', { amount, reason: 'x' }],
        [allocate, '/api/v1/allocations', { user: 'ada', amount }],
        [reclaim, '/api/v1/allocations/reclaim', { user: 'ada', amount }],
        [transfer, '/api/v1/transfers', { to_user: 'ada', amount }],
      ] as const) {
        const res = await callJson(handler, path, { key: org.keys.admin, body });
        expect(res.status, `${path} ${JSON.stringify(amount)}`).toBe(422);
        expect(res.body.error.code).toBe('validation_failed');
        expect(res.body.error.details.issues[0].path).toBe('amount');
      }
    }
    expect((await callJson(grant, '/api/v1/grants', { key: org.keys.admin, body: { amount: '1' } })).status).toBe(422);
    expect((await callJson(grant, '/api/v1/grants', { key: org.keys.admin, body: '{"amount":' })).status).toBe(400);
  });

  it('answers 404 for a user of another org, and leaves that org alone', async () => {
    for (const user of [stranger, 'stranger', 'nobody']) {
      const res = await callJson(grant, '/api/v1/grants', { key: org.keys.admin, body: { user, amount: '1', reason: 'x' } });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect((await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, body: { user, amount: '1' } })).status).toBe(404);
      expect((await callJson(balance, `/api/v1/balance?user=${user}`, { key: org.keys.read })).status).toBe(404);
      expect((await callJson(getMemberPolicy, `/api/v1/users/${user}/policy`, { key: org.keys.admin, params: { user } })).status).toBe(404);
    }
    const theirs = await callJson(balance, '/api/v1/balance?user=stranger', { key: other.keys.meter });
    expect(theirs.body).toMatchObject({ user: stranger, available: '0' });
  });
});

describe('idempotent credit operations', () => {
  it('answers a repeated grant with the same bytes and grants once; another body with the key is 422', async () => {
    const before = await poolBalance();
    const send = (amount: string) =>
      callJson(grant, '/api/v1/grants', { key: org.keys.admin, idempotencyKey: 'grant-1', body: { amount, reason: 'Once' } });
    const first = await send('7');
    const second = await send('7.000');
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    const after = await poolBalance();
    expect(parseCredits(after.total) - parseCredits(before.total)).toBe(7_000_000n);
    const mismatch = await send('8');
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('idempotency_mismatch');
    expect((await poolBalance()).total).toBe(after.total);
  });

  it('refuses the same key on another endpoint, and a malformed key with 400', async () => {
    const res = await callJson(allocate, '/api/v1/allocations', { key: org.keys.admin, idempotencyKey: 'grant-1', body: { user: 'ada', amount: '7' } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_mismatch');
    for (const bad of ['', 'x'.repeat(256), 'tab\there', 'é']) {
      const res = await callJson(grant, '/api/v1/grants', { key: org.keys.admin, idempotencyKey: bad, body: { amount: '1', reason: 'x' } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    }
  });

  it('transfers once and audits once under a repeated key', async () => {
    const send = () =>
      callJson(transfer, '/api/v1/transfers', { key: org.keys.admin, idempotencyKey: 'move-1', body: { to_user: 'ada', amount: '3' } });
    const [first, second] = [await send(), await send()];
    expect(second.text).toBe(first.text);
    const audits = await db.auditLog.findMany({ where: { orgId: org.id, action: 'credits.transferred', targetId: first.body.transaction_id } });
    // Written by the transaction that moved the credits: who, from where, to whom, how much.
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorType: 'api_key', targetType: 'ledger_transaction', data: { from: 'pool', to: first.body.to_user, amount: '3' } });
    expect(await db.ledgerTransaction.count({ where: { orgId: org.id, id: first.body.transaction_id } })).toBe(1);
  });
});

describe('balances, lots and the journal', () => {
  it('shows the balance of the pool and of a member by id or external id', async () => {
    const pool = await callJson(balance, '/api/v1/balance', { key: org.keys.meter });
    expect(pool.status).toBe(200);
    expect(pool.body).toEqual({
      user: null,
      available: expect.stringMatching(/^\d+(\.\d+)?$/),
      reserved: '0',
      total: pool.body.available,
      debt: '0',
      expiring_soon: { amount: '0', within_days: 7, next_expiry: null },
    });
    const byExternal = await callJson(balance, '/api/v1/balance?user=ada', { key: org.keys.read });
    const byId = await callJson(balance, `/api/v1/balance?user=${ada}`, { key: org.keys.read });
    expect(byExternal.body).toEqual(byId.body);
    expect(byId.body).toMatchObject({ user: ada, expiring_soon: { amount: '2.5', next_expiry: expect.any(String) } });
  });

  it('lists lots in spend order', async () => {
    const res = await callJson(lots, '/api/v1/lots?user=ada', { key: org.keys.read });
    expect(res.status).toBe(200);
    expect(res.body.data[0]).toMatchObject({ source: 'promotion', amount: '2.5', remaining: '2.5', priority: 5, expired: false });
    expect((await callJson(lots, '/api/v1/lots?include_spent=maybe', { key: org.keys.read })).status).toBe(422);
  });

  it('pages through the journal with filters', async () => {
    const first = await callJson(transactions, '/api/v1/transactions?limit=2', { key: org.keys.read });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await callJson(transactions, `/api/v1/transactions?limit=2&cursor=${first.body.next_cursor}`, { key: org.keys.read });
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
    const grants = await callJson(transactions, '/api/v1/transactions?kind=grant&user=ada', { key: org.keys.read });
    expect(grants.body.data.every((t: { kind: string; amount: string }) => t.kind === 'grant' && t.amount !== null)).toBe(true);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect((await callJson(transactions, `/api/v1/transactions?from=${future}`, { key: org.keys.read })).body.data).toEqual([]);
    for (const query of ['limit=0', 'limit=abc', 'from=yesterday', 'kind=bogus', 'cursor=%%%']) {
      const res = await callJson(transactions, `/api/v1/transactions?${query}`, { key: org.keys.read });
      expect(res.status, query).toBe(422);
    }
  });
});

describe('policies', () => {
  it('reads and changes the org policy, idempotently', async () => {
    const current = await callJson(getPolicy, '/api/v1/policy', { key: org.keys.read });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ pool_fallback: false, overdraft_limit: '0', default_reservation_ttl_seconds: 300 });
    const body = { pool_fallback: true, pool_daily_limit: '5', overdraft_limit: '1.5' };
    const first = await callJson(putPolicy, '/api/v1/policy', { method: 'PUT', key: org.keys.admin, idempotencyKey: 'p-1', body });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ pool_fallback: true, pool_daily_limit: '5', overdraft_limit: '1.5' });
    const again = await callJson(putPolicy, '/api/v1/policy', { method: 'PUT', key: org.keys.admin, idempotencyKey: 'p-1', body });
    expect(again.text).toBe(first.text);
    expect(await db.auditLog.count({ where: { orgId: org.id, action: 'policy.updated' } })).toBe(1);
    const other = await callJson(putPolicy, '/api/v1/policy', { method: 'PUT', key: org.keys.admin, idempotencyKey: 'p-1', body: { pool_fallback: false } });
    expect(other.status).toBe(422);
    for (const bad of [{ overdraft_limit: '-1' }, { unknown_field: 1 }, { default_reservation_ttl_seconds: 7200 }]) {
      expect((await callJson(putPolicy, '/api/v1/policy', { method: 'PUT', key: org.keys.admin, body: bad })).status).toBe(422);
    }
    const reset = await callJson(putPolicy, '/api/v1/policy', { method: 'PUT', key: org.keys.admin, body: { pool_fallback: false, overdraft_limit: '0' } });
    expect(reset.body).toMatchObject({ pool_fallback: false, overdraft_limit: '0', pool_daily_limit: '5' });
  });

  it('reads and sets member overrides', async () => {
    const path = '/api/v1/users/bob/policy';
    const before = await callJson(getMemberPolicy, path, { key: org.keys.admin, params: { user: 'bob' } });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ user: bob, overrides: { pool_fallback: null, pool_daily_limit: null }, effective: { pool_fallback: false } });
    const set = await callJson(putMemberPolicy, path, {
      method: 'PUT',
      key: org.keys.admin,
      params: { user: 'bob' },
      body: { pool_fallback: true, pool_daily_limit: '2' },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ overrides: { pool_fallback: true, pool_daily_limit: '2' }, effective: { pool_fallback: true, pool_daily_limit: '2' } });
    const cleared = await callJson(putMemberPolicy, path, { method: 'PUT', key: org.keys.admin, params: { user: 'bob' }, body: { pool_fallback: null } });
    expect(cleared.body.overrides.pool_fallback).toBeNull();
    expect(cleared.body.effective.pool_fallback).toBe(false);
    expect((await callJson(putMemberPolicy, path, { method: 'PUT', key: org.keys.admin, params: { user: 'bob' }, body: { pool_daily_limit: 2 } })).status).toBe(422);
  });
});

it('serves the OpenAPI document without a key', async () => {
  const res = await callJson(openapi, '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe('3.1.0');
  expect(Object.keys(res.body.paths)).toContain('/api/v1/reservations/{id}/commit');
});
