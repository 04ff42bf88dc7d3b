import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../db/client.ts';
import { authenticateWithPassword } from '../auth/session.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { addMembership, createUser } from './create-user.ts';

const hook = vi.hoisted(() => vi.fn(async (_tx: unknown, _membership: unknown) => {}));
vi.mock('./hooks.ts', () => ({ afterUserJoinedOrg: hook }));

let db: Db;
let orgA: { id: string };
let orgB: { id: string };
const system = { type: 'system' } as const;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
  orgA = await db.org.create({ data: { slug: 'org-a', name: 'Org A' } });
  orgB = await db.org.create({ data: { slug: 'org-b', name: 'Org B' } });
});

afterAll(async () => {
  await db.$disconnect();
});

beforeEach(() => {
  hook.mockReset();
  hook.mockImplementation(async () => {});
});

describe('createUser', () => {
  it('creates the user with a normalised email, a membership and an audit row', async () => {
    const { user, membership } = await createUser(
      db,
      { email: '  Grace@Example.COM ', name: 'Grace', password: 'a long enough password', org: { id: orgA.id, role: 'admin' } },
      { type: 'user', userId: '0193a000-0000-7000-8000-000000000001' },
    );
    expect(user.email).toBe('grace@example.com');
    expect(membership).toMatchObject({ orgId: orgA.id, userId: user.id, role: 'admin' });
    const audit = await db.auditLog.findFirstOrThrow({ where: { orgId: orgA.id, targetId: user.id } });
    expect(audit).toMatchObject({ action: 'member.added', actorType: 'user', targetType: 'user' });
    const stored = await db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await authenticateWithPassword(db, 'GRACE@example.com', 'a long enough password')).toEqual({
      id: user.id,
      email: 'grace@example.com',
      name: 'Grace',
    });
    expect(await authenticateWithPassword(db, 'grace@example.com', 'wrong password!!')).toBeNull();
  });

  it('refuses a second user with the same email, whatever its case', async () => {
    await createUser(db, { email: 'dup@example.com' }, system);
    await expect(createUser(db, { email: 'DUP@example.com', org: { id: orgA.id, role: 'member' } }, system)).rejects.toMatchObject({
      code: 'conflict',
      message: 'A user with this email already exists',
    });
    expect(await db.user.count({ where: { email: 'dup@example.com' } })).toBe(1);
  });

  it('lets exactly one of two simultaneous sign-ups with the same email succeed', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => createUser(db, { email: 'race@example.com' }, system)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict', message: 'A user with this email already exists' });
    }
  });

  it('keeps external ids unique inside an org but not across orgs', async () => {
    await createUser(db, { externalId: 'ext-1', org: { id: orgA.id, role: 'member' } }, system);
    await expect(createUser(db, { externalId: 'ext-1', org: { id: orgA.id, role: 'member' } }, system)).rejects.toMatchObject({
      code: 'conflict',
      message: 'A user with this external id already exists in this org',
    });
    const other = await createUser(db, { externalId: 'ext-1', org: { id: orgB.id, role: 'member' } }, system);
    expect(other.membership?.externalId).toBe('ext-1');
  });

  it('rejects invalid emails and short passwords before writing anything', async () => {
    await expect(createUser(db, { email: 'not-an-email' }, system)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(createUser(db, { email: 'short@example.com', password: 'short' }, system)).rejects.toMatchObject({
      code: 'validation_failed',
    });
    expect(await db.user.count({ where: { email: 'short@example.com' } })).toBe(0);
  });

  it('runs the join hook inside the transaction: a failing hook leaves no user behind', async () => {
    const { membership } = await createUser(db, { email: 'hooked@example.com', org: { id: orgA.id, role: 'member' } }, system);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(hook.mock.calls[0]![1]).toEqual(membership);

    hook.mockRejectedValueOnce(new Error('allocation failed'));
    await expect(
      createUser(db, { email: 'rolled-back@example.com', org: { id: orgA.id, role: 'member' } }, system),
    ).rejects.toThrow('allocation failed');
    expect(await db.user.count({ where: { email: 'rolled-back@example.com' } })).toBe(0);
  });

  it('does not call the hook for a user created without an org', async () => {
    await createUser(db, { email: 'loner@example.com' }, system);
    expect(hook).not.toHaveBeenCalled();
  });
});

describe('addMembership', () => {
  it('adds an existing user to another org, through the hook, once', async () => {
    const { user } = await createUser(db, { email: 'traveller@example.com', org: { id: orgA.id, role: 'member' } }, system);
    hook.mockClear();
    const membership = await addMembership(db, { orgId: orgB.id, userId: user.id, role: 'billing' }, system);
    expect(membership).toMatchObject({ orgId: orgB.id, userId: user.id, role: 'billing' });
    expect(hook).toHaveBeenCalledWith(expect.anything(), membership);
    await expect(addMembership(db, { orgId: orgB.id, userId: user.id, role: 'member' }, system)).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});
