import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiKey } from '../auth/api-keys.ts';
import { authenticateWithPassword } from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { runAdminCommand } from './admin-commands.ts';

let db: Db;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
});

afterAll(async () => {
  await db.$disconnect();
});

async function admin(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCommand(argv, { db, out: (l) => out.push(...l.split('\n')), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

describe('admin CLI', () => {
  it('creates and lists orgs', async () => {
    const created = await admin('org', 'create', '--slug', 'acme', '--name', 'Acme Inc');
    expect(created.code).toBe(0);
    expect(created.out[0]).toBe('Created org acme (Acme Inc)');
    const listed = await admin('org', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out.join('\n')).toMatch(/^acme\tAcme Inc\t0 members\t/m);
    const duplicate = await admin('org', 'create', '--slug', 'acme', '--name', 'Again');
    expect(duplicate).toMatchObject({ code: 1, err: 'Error: An org with this slug already exists' });
  });

  it('creates a user who can sign in with the generated password', async () => {
    const res = await admin('user', 'create', '--org', 'acme', '--email', 'Ops@Example.com', '--role', 'admin', '--name', 'Ops');
    expect(res.code).toBe(0);
    const id = res.out.find((l) => l.startsWith('id: '))!.slice(4);
    const password = res.out.find((l) => l.startsWith('password: '))!.slice(10);
    expect(await authenticateWithPassword(db, 'ops@example.com', password)).toMatchObject({ id, name: 'Ops' });
    expect(await db.membership.findFirst({ where: { userId: id, org: { slug: 'acme' } } })).toMatchObject({ role: 'admin' });
  });

  it('uses a given password and does not print it', async () => {
    const res = await admin('user', 'create', '--org', 'acme', '--email', 'own@example.com', '--role', 'member', '--password', 'my chosen password');
    expect(res.code).toBe(0);
    expect(res.out.join('\n')).not.toContain('my chosen password');
    expect(await authenticateWithPassword(db, 'own@example.com', 'my chosen password')).not.toBeNull();
  });

  it('fails with the reason for an unknown org', async () => {
    const res = await admin('user', 'create', '--org', 'nope', '--email', 'x@example.com', '--role', 'member');
    expect(res).toMatchObject({ code: 1, err: 'Error: Org not found: nope' });
  });

  it('creates an API key, printed alone on the last line, that then authenticates; lists and revokes it', async () => {
    const created = await admin('api-key', 'create', '--org', 'acme', '--scope', 'meter', '--name', 'Backend');
    expect(created.code).toBe(0);
    const key = created.out[created.out.length - 1]!;
    expect(key).toMatch(/^cr_[A-Za-z0-9_-]{43}$/);
    const verified = await verifyApiKey(db, key);
    expect(verified).toMatchObject({ org: { slug: 'acme' }, apiKey: { scopes: ['meter'], name: 'Backend' } });

    const listed = await admin('api-key', 'list', '--org', 'acme');
    expect(listed.code).toBe(0);
    const line = listed.out.find((l) => l.startsWith(verified!.apiKey.id))!;
    expect(line).toContain(key.slice(0, 12));
    expect(line).toContain('active');
    expect(listed.out.join('\n')).not.toContain(key);

    const revoked = await admin('api-key', 'revoke', '--org', 'acme', '--id', verified!.apiKey.id);
    expect(revoked.code).toBe(0);
    expect(await verifyApiKey(db, key)).toBeNull();
    expect((await admin('api-key', 'list', '--org', 'acme')).out.join('\n')).toContain('revoked');
  });

  it('does not revoke a key through another org', async () => {
    await admin('org', 'create', '--slug', 'other', '--name', 'Other');
    const created = await admin('api-key', 'create', '--org', 'acme', '--scope', 'read');
    const verified = await verifyApiKey(db, created.out[created.out.length - 1]!);
    const res = await admin('api-key', 'revoke', '--org', 'other', '--id', verified!.apiKey.id);
    expect(res).toMatchObject({ code: 1, err: 'Error: API key not found' });
  });
});
