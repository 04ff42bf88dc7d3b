import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import type { Role } from '../generated/prisma/client.ts';
import { useTestDatabase } from '../test/db-harness.ts';
import { createUser } from '../users/create-user.ts';
import { changeMemberRole, createOrg, getOrgBySlug, listMembers, removeMember, renameOrg } from './orgs.ts';

let db: Db;
const system = { type: 'system' } as const;
let counter = 0;

beforeAll(async () => {
  db = (await useTestDatabase()).db;
});

afterAll(async () => {
  await db.$disconnect();
});

async function member(orgId: string, role: Role) {
  counter += 1;
  const { user, membership } = await createUser(db, { email: `m${counter}@example.com`, name: `M${counter}`, org: { id: orgId, role } }, system);
  return { user: { id: user.id }, membership: membership! };
}

async function newOrg() {
  counter += 1;
  return createOrg(db, { slug: `org-${counter}`, name: `Org ${counter}` }, system);
}

describe('createOrg', () => {
  it('creates an org with its first owner and refuses a taken slug', async () => {
    const { user } = await createUser(db, { email: 'founder@example.com' }, system);
    const org = await createOrg(db, { slug: 'founders', name: 'Founders', ownerUserId: user.id }, system);
    expect(await getOrgBySlug(db, 'founders')).toMatchObject({ id: org.id, name: 'Founders' });
    expect(await listMembers(db, org.id)).toMatchObject([{ userId: user.id, role: 'owner', email: 'founder@example.com' }]);
    await expect(createOrg(db, { slug: 'founders', name: 'Again' }, system)).rejects.toMatchObject({ code: 'conflict' });
    await expect(createOrg(db, { slug: 'Bad Slug', name: 'X' }, system)).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('changeMemberRole', () => {
  it('never demotes the last owner', async () => {
    const org = await newOrg();
    const owner = await member(org.id, 'owner');
    await expect(
      changeMemberRole(db, { orgId: org.id, membershipId: owner.membership.id, role: 'admin' }, owner),
    ).rejects.toMatchObject({ code: 'conflict', details: { reason: 'last_owner' } });
    const second = await member(org.id, 'owner');
    await changeMemberRole(db, { orgId: org.id, membershipId: owner.membership.id, role: 'admin' }, second);
    expect((await listMembers(db, org.id)).find((m) => m.membershipId === owner.membership.id)?.role).toBe('admin');
  });

  it('keeps one owner when two owners demote each other at the same time', async () => {
    const org = await newOrg();
    const a = await member(org.id, 'owner');
    const b = await member(org.id, 'owner');
    const results = await Promise.allSettled([
      changeMemberRole(db, { orgId: org.id, membershipId: b.membership.id, role: 'member' }, a),
      changeMemberRole(db, { orgId: org.id, membershipId: a.membership.id, role: 'member' }, b),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await db.membership.count({ where: { orgId: org.id, role: 'owner' } })).toBe(1);
  });

  it('stops admins from creating owners or touching owners', async () => {
    const org = await newOrg();
    const owner = await member(org.id, 'owner');
    const admin = await member(org.id, 'admin');
    const regular = await member(org.id, 'member');
    await expect(
      changeMemberRole(db, { orgId: org.id, membershipId: regular.membership.id, role: 'owner' }, admin),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      changeMemberRole(db, { orgId: org.id, membershipId: owner.membership.id, role: 'member' }, admin),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const updated = await changeMemberRole(db, { orgId: org.id, membershipId: regular.membership.id, role: 'billing' }, admin);
    expect(updated.role).toBe('billing');
  });

  it('treats another org’s member as not found', async () => {
    const org = await newOrg();
    const owner = await member(org.id, 'owner');
    const elsewhere = await newOrg();
    const stranger = await member(elsewhere.id, 'member');
    await expect(
      changeMemberRole(db, { orgId: org.id, membershipId: stranger.membership.id, role: 'admin' }, owner),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('removeMember', () => {
  it('removes members but never the last owner', async () => {
    const org = await newOrg();
    const owner = await member(org.id, 'owner');
    const regular = await member(org.id, 'member');
    await removeMember(db, { orgId: org.id, membershipId: regular.membership.id }, owner);
    expect((await listMembers(db, org.id)).map((m) => m.membershipId)).toEqual([owner.membership.id]);
    await expect(removeMember(db, { orgId: org.id, membershipId: owner.membership.id }, owner)).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});

describe('renameOrg', () => {
  it('renames and audits', async () => {
    const org = await newOrg();
    await renameOrg(db, { orgId: org.id, name: '  New Name ' }, system);
    expect((await getOrgBySlug(db, org.slug))?.name).toBe('New Name');
    expect(await db.auditLog.count({ where: { orgId: org.id, action: 'org.renamed' } })).toBe(1);
    await expect(renameOrg(db, { orgId: org.id, name: '  ' }, system)).rejects.toMatchObject({ code: 'validation_failed' });
  });
});
