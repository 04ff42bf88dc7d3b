import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { createTestOrg, type TestOrg } from '../test/api-fixture.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { masterKey, type Keyring } from './secret-box.ts';
import { forgetOrgUpstreams, resolveUpstream } from './upstream-routing.ts';
import { createUpstream, deleteUpstream, listUpstreams, loadEnabledUpstreams, setUpstreamEnabled, updateUpstream } from './upstreams.ts';

let db: Db;
let org: TestOrg;
let other: TestOrg;
const keyring: Keyring = { current: masterKey(randomBytes(32)), previous: [] };
const system = { type: 'system' } as const;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  org = await createTestOrg(db, 'ups');
  other = await createTestOrg(db, 'ups-other');
});

afterAll(async () => {
  await db.$disconnect();
});

describe('org upstreams', () => {
  it('stores the key sealed and shows only its last four characters', async () => {
    const created = await createUpstream(db, keyring, org.id, { name: 'OpenAI', baseUrl: 'https://api.example.com/v1/', apiKey: 'sk-test-abcd1234', modelPatterns: 'gpt-*, o1*' }, system);
    expect(created).toMatchObject({ name: 'OpenAI', baseUrl: 'https://api.example.com/v1', apiKeyLast4: '1234', modelPatterns: ['gpt-*', 'o1*'], enabled: true });
    expect(JSON.stringify(created)).not.toContain('sk-test');
    const [row] = await db.$queryRaw<{ api_key_sealed: string }[]>`SELECT api_key_sealed FROM proxy_upstreams WHERE id = ${created.id}::uuid`;
    expect(row.api_key_sealed).not.toContain('sk-test');
    expect((await loadEnabledUpstreams(db, keyring, org.id))[0].apiKey).toBe('sk-test-abcd1234');
    const audit = await db.auditLog.findMany({ where: { orgId: org.id, action: 'upstream.created' } });
    expect(JSON.stringify(audit)).not.toContain('sk-test');
  });

  it('refuses a duplicate name and bad input with field errors', async () => {
    await expect(createUpstream(db, keyring, org.id, { name: 'OpenAI', baseUrl: 'https://x.example', apiKey: 'k', modelPatterns: '*' }, system)).rejects.toMatchObject({ code: 'conflict', details: { field: 'name' } });
    await expect(createUpstream(db, keyring, org.id, { name: 'x', baseUrl: 'ftp://x', apiKey: 'k', modelPatterns: '*' }, system)).rejects.toMatchObject({ details: { field: 'baseUrl' } });
    await expect(createUpstream(db, keyring, org.id, { name: 'x', baseUrl: 'https://x', apiKey: 'k', modelPatterns: '' }, system)).rejects.toMatchObject({ details: { field: 'modelPatterns' } });
  });

  it('edits, keeps the key unless a new one is given, disables and deletes', async () => {
    const [existing] = await listUpstreams(db, org.id);
    const edited = await updateUpstream(db, keyring, org.id, existing.id, { name: 'Primary', baseUrl: 'https://api.example.com/v1', modelPatterns: ['gpt-*'] }, system);
    expect(edited).toMatchObject({ name: 'Primary', apiKeyLast4: '1234', modelPatterns: ['gpt-*'] });
    const rekeyed = await updateUpstream(db, keyring, org.id, existing.id, { name: 'Primary', baseUrl: 'https://api.example.com/v1', modelPatterns: ['gpt-*'], apiKey: 'sk-new-9876' }, system);
    expect(rekeyed.apiKeyLast4).toBe('9876');
    expect((await loadEnabledUpstreams(db, keyring, org.id))[0].apiKey).toBe('sk-new-9876');
    await setUpstreamEnabled(db, org.id, existing.id, false, system);
    expect(await loadEnabledUpstreams(db, keyring, org.id)).toEqual([]);
    await deleteUpstream(db, org.id, existing.id, system);
    expect(await listUpstreams(db, org.id)).toEqual([]);
  });

  it("treats another org's upstream as not found", async () => {
    const theirs = await createUpstream(db, keyring, other.id, { name: 'Theirs', baseUrl: 'https://t.example', apiKey: 'sk-theirs', modelPatterns: '*' }, system);
    await expect(setUpstreamEnabled(db, org.id, theirs.id, false, system)).rejects.toMatchObject({ code: 'not_found' });
    await expect(deleteUpstream(db, org.id, theirs.id, system)).rejects.toMatchObject({ code: 'not_found' });
    await expect(deleteUpstream(db, org.id, 'not-a-uuid', system)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('routes a model to the org upstream that serves it, else to the default', async () => {
    await createUpstream(db, keyring, org.id, { name: 'Claude', baseUrl: 'https://c.example/v1', apiKey: 'sk-c', modelPatterns: 'claude-*' }, system);
    forgetOrgUpstreams(org.id);
    const defaultUpstream = { id: 'default', name: 'default', baseUrl: 'http://d', apiKey: 'd', modelPatterns: ['*'] };
    const source = { db, keyring, defaultUpstream };
    expect((await resolveUpstream(source, org.id, 'claude-3-haiku'))?.name).toBe('Claude');
    expect((await resolveUpstream(source, org.id, 'gpt-4o'))?.id).toBe('default');
    expect(await resolveUpstream({ ...source, defaultUpstream: null }, org.id, 'gpt-4o')).toBeNull();
  });
});
