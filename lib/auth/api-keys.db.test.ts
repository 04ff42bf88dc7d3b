import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../db/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { createApiKey, forgetVerifiedApiKeys, listApiKeys, revokeApiKey, verifyApiKey } from './api-keys.ts';

let db: Db;
let org: { id: string; slug: string };
let otherOrg: { id: string };
const system = { type: 'system' } as const;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await db.org.create({ data: { slug: 'acme', name: 'Acme' } });
  otherOrg = await db.org.create({ data: { slug: 'other', name: 'Other' } });
});

afterAll(async () => {
  await db.$disconnect();
});

describe('API keys', () => {
  it('stores only a hash: the clear key appears nowhere in the row', async () => {
    const { apiKey, key } = await createApiKey(db, { orgId: org.id, name: 'Backend', scopes: ['meter'] }, system);
    expect(apiKey).not.toHaveProperty('keyHash');
    expect(apiKey.prefix).toBe(key.slice(0, 12));
    const [row] = await db.$queryRaw<{ row: string }[]>`
      SELECT row_to_json(k)::text AS row FROM api_keys k WHERE id = ${apiKey.id}::uuid`;
    expect(row!.row).not.toContain(key);
    expect(row!.row).not.toContain(key.slice(12));
  });

  it('verifies a key to its org and scopes, and never lists hashes', async () => {
    const { apiKey, key } = await createApiKey(db, { orgId: org.id, name: 'Reader', scopes: ['read', 'meter'] }, system);
    expect(await verifyApiKey(db, key)).toEqual({
      apiKey: { id: apiKey.id, orgId: org.id, name: 'Reader', prefix: apiKey.prefix, scopes: ['read', 'meter'] },
      org: { id: org.id, slug: 'acme', name: 'Acme' },
    });
    expect(await verifyApiKey(db, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(await verifyApiKey(db, 'cr_short')).toBeNull();
    const listed = await listApiKeys(db, org.id);
    expect(listed.find((k) => k.id === apiKey.id)).toBeTruthy();
    expect(JSON.stringify(listed)).not.toMatch(/keyHash|key_hash/);
  });

  it('stops a revoked key from authenticating, and keeps other orgs out', async () => {
    const { apiKey, key } = await createApiKey(db, { orgId: org.id, name: 'Temp', scopes: ['admin'] }, system);
    await expect(revokeApiKey(db, otherOrg.id, apiKey.id, system)).rejects.toMatchObject({ code: 'not_found' });
    expect(await verifyApiKey(db, key)).not.toBeNull();
    const revoked = await revokeApiKey(db, org.id, apiKey.id, system);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await verifyApiKey(db, key)).toBeNull();
    const again = await revokeApiKey(db, org.id, apiKey.id, system);
    expect(again.revokedAt).toEqual(revoked.revokedAt);
    await expect(revokeApiKey(db, org.id, 'not-a-uuid', system)).rejects.toMatchObject({ code: 'not_found' });
    expect(await db.auditLog.count({ where: { orgId: org.id, action: 'api_key.revoked', targetId: apiKey.id } })).toBe(1);
  });

  it('remembers a verified key briefly, but forgets it the moment it is revoked', async () => {
    const { apiKey, key } = await createApiKey(db, { orgId: org.id, name: 'Cached', scopes: ['meter'] }, system);
    expect(await verifyApiKey(db, key)).not.toBeNull();
    // Revoked behind the process's back: the remembered answer stands for a few seconds at most.
    await db.apiKey.update({ where: { id: apiKey.id }, data: { revokedAt: new Date() } });
    expect(await verifyApiKey(db, key)).not.toBeNull();
    forgetVerifiedApiKeys();
    expect(await verifyApiKey(db, key)).toBeNull();

    const second = await createApiKey(db, { orgId: org.id, name: 'Revoked here', scopes: ['meter'] }, system);
    expect(await verifyApiKey(db, second.key)).not.toBeNull();
    await revokeApiKey(db, org.id, second.apiKey.id, system);
    expect(await verifyApiKey(db, second.key)).toBeNull();
  });

  it('records when a key was last used, at most once a minute', async () => {
    const { apiKey, key } = await createApiKey(db, { orgId: org.id, name: 'Busy', scopes: ['meter'] }, system);
    const lastUsed = async () => (await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt;
    expect(await lastUsed()).toBeNull();

    await verifyApiKey(db, key);
    await vi.waitFor(async () => expect(await lastUsed()).not.toBeNull());

    // Calls further apart than the in-process memory of verified keys each read the key again.
    await db.$executeRaw`UPDATE api_keys SET last_used_at = now() - interval '30 seconds' WHERE id = ${apiKey.id}::uuid`;
    const recent = await lastUsed();
    forgetVerifiedApiKeys();
    await verifyApiKey(db, key);
    await new Promise((r) => setTimeout(r, 200));
    expect(await lastUsed()).toEqual(recent);

    await db.$executeRaw`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = ${apiKey.id}::uuid`;
    const stale = await lastUsed();
    forgetVerifiedApiKeys();
    await verifyApiKey(db, key);
    await vi.waitFor(async () => expect((await lastUsed())!.getTime()).toBeGreaterThan(stale!.getTime()));
  });
});
