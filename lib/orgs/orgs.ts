/**
 * Orgs and their members. Invariants: slugs are unique and never collide with the app's own top-level routes;
 * an org always keeps at least one owner (role changes and removals that would drop the last one are
 * refused, under a row lock so two concurrent demotions cannot both pass); nobody grants or takes away a role
 * they could not assign themselves.
 */
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import type { Membership, Org, Role } from '../generated/prisma/client.ts';
import { type Actor, recordAudit } from '../auth/actor.ts';
import { rolesAssignableBy } from '../auth/permissions.ts';
import { AppError } from '../http/errors.ts';
import { addMembership, type DbOrTx, type Tx, uniqueViolationFields, withTransaction } from '../users/create-user.ts';

/** First path segments the app uses itself; an org with one of these slugs could not be reached. */
export const reservedSlugs: ReadonlySet<string> = new Set([
  'api',
  'app',
  'admin',
  'auth',
  'balance',
  'dashboard',
  'forbidden',
  'invite',
  'invitations',
  'login',
  'logout',
  'new',
  'orgs',
  'settings',
  'sign-in',
  'sign-out',
  'sign-up',
  'signin',
  'signup',
  'static',
  'public',
  'favicon.ico',
]);

export const orgSlugSchema = z
  .string()
  .trim()
  .min(3, 'Slug must be at least 3 characters')
  .max(48, 'Slug must be at most 48 characters')
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    'Use lowercase letters, digits and hyphens, not starting or ending with a hyphen',
  )
  .refine((slug) => !reservedSlugs.has(slug), 'This slug is reserved');

export const orgNameSchema = z.string().trim().min(1, 'Name is required').max(100, 'Name is too long');

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type OrgSummary = { id: string; slug: string; name: string; createdAt: Date };
const orgSelect = { id: true, slug: true, name: true, createdAt: true } as const;

/** What the acting member is, for checks that depend on their role (an OrgContext satisfies it). */
export type MemberActor = { user: { id: string }; membership: { role: Role } };

function parseField<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError('validation_failed', result.error.issues[0]?.message ?? `Invalid ${field}`, { field });
  }
  return result.data;
}

/** Creates an org, and makes `ownerUserId` its first owner when given. */
export async function createOrg(
  db: DbOrTx,
  input: { slug: string; name: string; ownerUserId?: string | null },
  actor: Actor,
): Promise<OrgSummary> {
  const slug = parseField(orgSlugSchema, input.slug, 'slug');
  const name = parseField(orgNameSchema, input.name, 'name');
  try {
    return await withTransaction(db, async (tx) => {
      const taken = await tx.org.findUnique({ where: { slug }, select: { id: true } });
      if (taken) throw new AppError('conflict', 'An org with this slug already exists', { field: 'slug' });
      const org = await tx.org.create({ data: { slug, name }, select: orgSelect });
      await recordAudit(tx, { orgId: org.id, actor, action: 'org.created', targetType: 'org', targetId: org.id });
      if (input.ownerUserId) {
        await addMembership(tx, { orgId: org.id, userId: input.ownerUserId, role: 'owner' }, actor);
      }
      return org;
    });
  } catch (err) {
    if (uniqueViolationFields(err)) {
      throw new AppError('conflict', 'An org with this slug already exists', { field: 'slug' });
    }
    throw err;
  }
}

export async function getOrgBySlug(db: DbOrTx, slug: string): Promise<OrgSummary | null> {
  return db.org.findUnique({ where: { slug }, select: orgSelect });
}

export async function listOrgs(db: DbOrTx): Promise<(OrgSummary & { memberCount: number })[]> {
  const orgs = await db.org.findMany({
    select: { ...orgSelect, _count: { select: { memberships: true } } },
    orderBy: { slug: 'asc' },
  });
  return orgs.map(({ _count, ...org }) => ({ ...org, memberCount: _count.memberships }));
}

export type MemberRow = {
  membershipId: string;
  userId: string;
  email: string | null;
  name: string | null;
  role: Role;
  externalId: string | null;
  joinedAt: Date;
};

/** The org's members, oldest first. */
export async function listMembers(db: DbOrTx, orgId: string): Promise<MemberRow[]> {
  const rows = await db.membership.findMany({
    where: { orgId },
    select: {
      id: true,
      role: true,
      externalId: true,
      createdAt: true,
      user: { select: { id: true, email: true, name: true } },
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map((m) => ({
    membershipId: m.id,
    userId: m.user.id,
    email: m.user.email,
    name: m.user.name,
    role: m.role,
    externalId: m.externalId,
    joinedAt: m.createdAt,
  }));
}

/**
 * Locks the org's owner memberships for the rest of the transaction and returns their ids. Every change that
 * can remove an owner takes this lock first, so concurrent changes see each other's effect on the count.
 */
async function lockOwners(tx: Tx, orgId: string): Promise<string[]> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM memberships WHERE org_id = ${orgId}::uuid AND role = 'owner' ORDER BY id FOR UPDATE`;
  return rows.map((r) => r.id);
}

async function findMembershipInOrg(tx: Tx, orgId: string, membershipId: string): Promise<Membership> {
  const membership = uuidPattern.test(membershipId)
    ? await tx.membership.findFirst({ where: { id: membershipId, orgId } })
    : null;
  if (!membership) throw new AppError('not_found', 'Member not found');
  return membership;
}

function assertMayManage(actorRole: Role, role: Role, what: string): void {
  if (!rolesAssignableBy(actorRole).includes(role)) {
    throw new AppError('forbidden', `You cannot ${what} a member with the ${role} role`);
  }
}

const actorOf = (ctx: MemberActor): Actor => ({ type: 'user', userId: ctx.user.id });

export async function changeMemberRole(
  db: DbOrTx,
  input: { orgId: string; membershipId: string; role: Role },
  ctx: MemberActor,
): Promise<Membership> {
  return withTransaction(db, async (tx) => {
    const owners = await lockOwners(tx, input.orgId);
    const membership = await findMembershipInOrg(tx, input.orgId, input.membershipId);
    assertMayManage(ctx.membership.role, membership.role, 'change the role of');
    if (!rolesAssignableBy(ctx.membership.role).includes(input.role)) {
      throw new AppError('forbidden', `You cannot assign the ${input.role} role`);
    }
    if (membership.role === input.role) return membership;
    if (membership.role === 'owner' && owners.length <= 1) {
      throw new AppError('conflict', 'The last owner cannot be demoted; make someone else an owner first', {
        reason: 'last_owner',
      });
    }
    const updated = await tx.membership.update({ where: { id: membership.id }, data: { role: input.role } });
    await recordAudit(tx, {
      orgId: input.orgId,
      actor: actorOf(ctx),
      action: 'member.role_changed',
      targetType: 'user',
      targetId: membership.userId,
      data: { membershipId: membership.id, from: membership.role, to: input.role },
    });
    return updated;
  });
}

export async function removeMember(
  db: DbOrTx,
  input: { orgId: string; membershipId: string },
  ctx: MemberActor,
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const owners = await lockOwners(tx, input.orgId);
    const membership = await findMembershipInOrg(tx, input.orgId, input.membershipId);
    assertMayManage(ctx.membership.role, membership.role, 'remove');
    if (membership.role === 'owner' && owners.length <= 1) {
      throw new AppError('conflict', 'The last owner cannot be removed', { reason: 'last_owner' });
    }
    await tx.membership.delete({ where: { id: membership.id } });
    await recordAudit(tx, {
      orgId: input.orgId,
      actor: actorOf(ctx),
      action: 'member.removed',
      targetType: 'user',
      targetId: membership.userId,
      data: { membershipId: membership.id, role: membership.role },
    });
  });
}

export async function renameOrg(db: DbOrTx, input: { orgId: string; name: string }, actor: Actor): Promise<Org> {
  const name = parseField(orgNameSchema, input.name, 'name');
  return withTransaction(db, async (tx) => {
    const before = await tx.org.findUnique({ where: { id: input.orgId }, select: { name: true } });
    if (!before) throw new AppError('not_found', 'Org not found');
    const org = await tx.org.update({ where: { id: input.orgId }, data: { name } });
    await recordAudit(tx, {
      orgId: org.id,
      actor,
      action: 'org.renamed',
      targetType: 'org',
      targetId: org.id,
      data: { from: before.name, to: name },
    });
    return org;
  });
}
