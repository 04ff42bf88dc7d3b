import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { authorizeOrgForUser, getOrgContext, listOrgsForUser } from './authorize.ts';
import { resolveOAuthUser, type SessionUser } from './session.ts';

let db: Db;
let acme: { id: string };
let billing: SessionUser;
let outsider: SessionUser;
const system = { type: 'system' } as const;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  acme = await db.org.create({ data: { slug: 'acme', name: 'Acme' } });
  const zeta = await db.org.create({ data: { slug: 'zeta', name: 'Zeta' } });
  const alpha = await db.org.create({ data: { slug: 'alpha', name: 'Alpha' } });
  const created = await createUser(db, { email: 'bill@example.com', name: 'Bill', org: { id: acme.id, role: 'billing' } }, system);
  billing = { id: created.user.id, email: 'bill@example.com', name: 'Bill' };
  await db.membership.create({ data: { orgId: zeta.id, userId: billing.id, role: 'member' } });
  await db.membership.create({ data: { orgId: alpha.id, userId: billing.id, role: 'owner' } });
  const other = await createUser(db, { email: 'out@example.com' }, system);
  outsider = { id: other.user.id, email: 'out@example.com', name: null };
});

afterAll(async () => {
  await db.$disconnect();
});

describe('org authorization', () => {
  it('gives a member their org context', async () => {
    const ctx = await getOrgContext('acme', billing.id, db);
    expect(ctx).toEqual({
      org: { id: acme.id, slug: 'acme', name: 'Acme' },
      user: billing,
      membership: { id: expect.any(String), role: 'billing' },
    });
  });

  it('answers "not found" alike for an unknown org and for an org the user is not in', async () => {
    expect(await getOrgContext('acme', outsider.id, db)).toBeNull();
    expect(await getOrgContext('no-such-org', billing.id, db)).toBeNull();
    const notMember = await authorizeOrgForUser(outsider, 'acme', 'overview:view', db).catch((e) => e);
    const unknown = await authorizeOrgForUser(billing, 'no-such-org', 'overview:view', db).catch((e) => e);
    expect(notMember).toMatchObject({ code: 'not_found' });
    expect({ code: unknown.code, message: unknown.message }).toEqual({ code: notMember.code, message: notMember.message });
  });

  it('checks the permission of the member’s role', async () => {
    await expect(authorizeOrgForUser(billing, 'acme', 'invoices:view', db)).resolves.toMatchObject({ org: { slug: 'acme' } });
    await expect(authorizeOrgForUser(billing, 'acme', 'users:manage', db)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(authorizeOrgForUser(null, 'acme', 'overview:view', db)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('lists the user’s orgs by name for the org switcher', async () => {
    expect(await listOrgsForUser(billing.id, db)).toEqual([
      { slug: 'acme', name: 'Acme', role: 'billing' },
      { slug: 'alpha', name: 'Alpha', role: 'owner' },
      { slug: 'zeta', name: 'Zeta', role: 'member' },
    ]);
    expect(await listOrgsForUser(outsider.id, db)).toEqual([]);
  });
});

describe('OAuth sign-in', () => {
  it('creates a user without orgs on first sign-in and finds them again afterwards', async () => {
    const identity = { provider: 'github', providerAccountId: '101', email: 'Octo@Example.com', emailVerified: true, name: 'Octo' };
    const id = await resolveOAuthUser(db, identity);
    expect(id).toBeTruthy();
    expect(await db.user.findUniqueOrThrow({ where: { id: id! } })).toMatchObject({ email: 'octo@example.com', name: 'Octo' });
    expect(await listOrgsForUser(id!, db)).toEqual([]);
    expect(await resolveOAuthUser(db, { ...identity, email: 'changed@example.com' })).toBe(id);
  });

  it('links to an existing user only through a verified email', async () => {
    expect(
      await resolveOAuthUser(db, { provider: 'google', providerAccountId: 'g-1', email: 'bill@example.com', emailVerified: false, name: null }),
    ).toBeNull();
    expect(
      await resolveOAuthUser(db, { provider: 'google', providerAccountId: 'g-1', email: 'bill@example.com', emailVerified: true, name: null }),
    ).toBe(billing.id);
  });
});
