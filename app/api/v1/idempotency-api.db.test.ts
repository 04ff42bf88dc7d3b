import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/lib/db/client.ts';
import { callJson, createTestOrg, type TestOrg } from '@/lib/test/api-fixture.ts';
import { useTestDatabase } from '@/lib/test/db-harness.ts';
import { POST as createKey } from './api-keys/route.ts';
import { GET as me } from './me/route.ts';
import { POST as createUser } from './users/route.ts';

let db: Db;
let org: TestOrg;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'acme');
});

afterAll(async () => {
  await db.$disconnect();
});

describe('Idempotency-Key on POST /api/v1/users', () => {
  it('creates one user for a repeated request and answers the same bytes', async () => {
    const send = (body: unknown) => callJson(createUser, '/api/v1/users', { key: org.keys.admin, idempotencyKey: 'user-1', body });
    const first = await send({ email: 'Ada@Example.com', external_id: 'ada' });
    const second = await send({ external_id: 'ada', email: 'ada@example.com' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(await db.membership.count({ where: { orgId: org.id, externalId: 'ada' } })).toBe(1);
    const other = await send({ external_id: 'bob' });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_mismatch');
    expect(await db.membership.count({ where: { orgId: org.id, externalId: 'bob' } })).toBe(0);
  });

  it('creates one user for concurrent requests with one key', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        callJson(createUser, '/api/v1/users', { key: org.keys.admin, idempotencyKey: 'user-2', body: { external_id: 'cyd' } }),
      ),
    );
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`)).size).toBe(1);
    expect(answers[0].status).toBe(201);
    expect(await db.membership.count({ where: { orgId: org.id, externalId: 'cyd' } })).toBe(1);
  });

  it('does not store a failure: a conflict is answered again, not replayed', async () => {
    const dup = await callJson(createUser, '/api/v1/users', { key: org.keys.admin, idempotencyKey: 'user-3', body: { external_id: 'ada' } });
    expect(dup.status).toBe(409);
    expect(await db.idempotencyKey.count({ where: { orgId: org.id, key: 'api:user-3' } })).toBe(0);
  });
});

describe('Idempotency-Key on POST /api/v1/api-keys', () => {
  it('creates one key and never stores or repeats the clear key', async () => {
    const send = () => callJson(createKey, '/api/v1/api-keys', { key: org.keys.admin, idempotencyKey: 'key-1', body: { name: 'CI', scopes: ['read'] } });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(/^cr_/);
    expect(second.status).toBe(201);
    expect(second.body).toEqual({ ...first.body, key: null });
    expect(await db.apiKey.count({ where: { orgId: org.id, name: 'CI' } })).toBe(1);
    const stored = await db.idempotencyKey.findUniqueOrThrow({ where: { orgId_key: { orgId: org.id, key: 'api:key-1' } } });
    expect(JSON.stringify(stored.body)).not.toContain(first.body.key);
    expect((await callJson(me, '/api/v1/me', { key: first.body.key })).status).toBe(200);
  });
});
