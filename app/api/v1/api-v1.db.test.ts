import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '@/lib/auth/api-keys.ts';
import type { Db } from '@/lib/db/client.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { GET as listKeys, POST as createKey } from './api-keys/route.ts';
import { DELETE as deleteKey } from './api-keys/[id]/route.ts';
import { GET as me } from './me/route.ts';
import { GET as listUsers, POST as createUserRoute } from './users/route.ts';

let db: Db;
let org: { id: string; slug: string };
const keys: Record<'admin' | 'meter' | 'read' | 'revoked' | 'other', string> = {} as never;
const system = { type: 'system' } as const;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await db.org.create({ data: { slug: 'acme', name: 'Acme' } });
  const other = await db.org.create({ data: { slug: 'other', name: 'Other' } });
  for (const scope of ['admin', 'meter', 'read'] as const) {
    keys[scope] = (await createApiKey(db, { orgId: org.id, name: scope, scopes: [scope] }, system)).key;
  }
  const revoked = await createApiKey(db, { orgId: org.id, name: 'old', scopes: ['admin'] }, system);
  await revokeApiKey(db, org.id, revoked.apiKey.id, system);
  keys.revoked = revoked.key;
  keys.other = (await createApiKey(db, { orgId: other.id, name: 'theirs', scopes: ['admin'] }, system)).key;
});

afterAll(async () => {
  await db.$disconnect();
});

const noParams = { params: Promise.resolve({}) };

function request(path: string, init: { method?: string; key?: string | null; body?: unknown; authorization?: string } = {}) {
  const headers = new Headers({ 'content-type': 'application/json' });
  if (init.authorization) headers.set('authorization', init.authorization);
  else if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  return new Request(`http://localhost${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
}

describe('API key authentication', () => {
  it('answers 401 with WWW-Authenticate for a missing, malformed, unknown or revoked key', async () => {
    const attempts = [
      request('/api/v1/me'),
      request('/api/v1/me', { authorization: 'Basic dXNlcjpwYXNz' }),
      request('/api/v1/me', { authorization: `Bearer ${keys.admin} extra` }),
      request('/api/v1/me', { key: 'cr_thisisnotarealkeythisisnotarealkeythisisnot' }),
      request('/api/v1/me', { key: keys.revoked }),
    ];
    for (const req of attempts) {
      const res = await me(req, noParams);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await res.json()).error.code).toBe('unauthenticated');
    }
  });

  it('answers 403 when the key lacks the scope', async () => {
    const res = await createUserRoute(request('/api/v1/users', { method: 'POST', key: keys.meter, body: { email: 'x@example.com' } }), noParams);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('forbidden');
    expect((await listUsers(request('/api/v1/users', { key: keys.meter }), noParams)).status).toBe(403);
    expect((await listKeys(request('/api/v1/api-keys', { key: keys.read }), noParams)).status).toBe(403);
  });

  it('tells any valid key which org and key it is', async () => {
    const res = await me(request('/api/v1/me', { key: keys.meter }), noParams);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await res.json()).toEqual({
      org: { id: org.id, slug: 'acme', name: 'Acme' },
      api_key: { id: expect.any(String), prefix: keys.meter.slice(0, 12), scopes: ['meter'] },
    });
  });
});

describe('/api/v1/users', () => {
  it('creates a member (201) and lists it for admin and read keys', async () => {
    const res = await createUserRoute(
      request('/api/v1/users', { method: 'POST', key: keys.admin, body: { email: 'End.User@Example.com', name: 'End User', external_id: 'u-42' } }),
      noParams,
    );
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toEqual({
      id: expect.any(String),
      email: 'end.user@example.com',
      name: 'End User',
      external_id: 'u-42',
      role: 'member',
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    const listed = await (await listUsers(request('/api/v1/users', { key: keys.read }), noParams)).json();
    expect(listed.data).toContainEqual(created);
  });

  it('creates a user known only by external id, or only by the id it answers', async () => {
    const res = await createUserRoute(request('/api/v1/users', { method: 'POST', key: keys.admin, body: { external_id: 'anon-1' } }), noParams);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ email: null, external_id: 'anon-1' });
    for (const body of [{}, { name: 'No ids' }]) {
      const bare = await createUserRoute(request('/api/v1/users', { method: 'POST', key: keys.admin, body }), noParams);
      expect(bare.status).toBe(201);
      expect(await bare.json()).toMatchObject({ id: expect.any(String), email: null, external_id: null, name: body.name ?? null });
    }
  });

  it('answers 422 for an invalid body, 400 for malformed JSON and 409 for a duplicate', async () => {
    const post = (body: unknown) => createUserRoute(request('/api/v1/users', { method: 'POST', key: keys.admin, body }), noParams);
    for (const body of [{ email: 'not-an-email' }, { external_id: '' }, { name: 7 }]) {
      const res = await post(body);
      expect(res.status).toBe(422);
      const json = await res.json();
      expect(json.error.code).toBe('validation_failed');
      expect(json.error.details.issues.length).toBeGreaterThan(0);
    }
    const malformed = await post('{"email":');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('invalid_json');
    await post({ external_id: 'dup' });
    const dup = await post({ external_id: 'dup' });
    expect(dup.status).toBe(409);
    expect((await dup.json()).error.code).toBe('conflict');
  });
});

describe('/api/v1/api-keys', () => {
  it('creates a key shown once, lists keys without secrets, and revokes', async () => {
    const res = await createKey(request('/api/v1/api-keys', { method: 'POST', key: keys.admin, body: { name: 'CI', scopes: ['read'] } }), noParams);
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created.key).toMatch(/^cr_/);
    expect(created).toMatchObject({ name: 'CI', scopes: ['read'], prefix: created.key.slice(0, 12), revoked_at: null });

    const listed = await (await listKeys(request('/api/v1/api-keys', { key: keys.admin }), noParams)).json();
    expect(listed.data.map((k: { id: string }) => k.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(JSON.stringify(listed)).not.toMatch(/hash/);

    const del = await deleteKey(request(`/api/v1/api-keys/${created.id}`, { method: 'DELETE', key: keys.admin }), {
      params: Promise.resolve({ id: created.id }),
    });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id: created.id, revoked_at: expect.any(String) });
    expect((await me(request('/api/v1/me', { key: created.key }), noParams)).status).toBe(401);
  });

  it('answers 404 for another org’s key or a malformed id', async () => {
    const theirs = await (await me(request('/api/v1/me', { key: keys.other }), noParams)).json();
    for (const id of [theirs.api_key.id, 'not-a-uuid']) {
      const res = await deleteKey(request(`/api/v1/api-keys/${id}`, { method: 'DELETE', key: keys.admin }), {
        params: Promise.resolve({ id }),
      });
      expect(res.status).toBe(404);
    }
    expect((await me(request('/api/v1/me', { key: keys.other }), noParams)).status).toBe(200);
  });

  it('rejects a key without scopes with 422', async () => {
    const res = await createKey(request('/api/v1/api-keys', { method: 'POST', key: keys.admin, body: { name: 'x', scopes: [] } }), noParams);
    expect(res.status).toBe(422);
  });
});
