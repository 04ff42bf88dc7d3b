/**
 * The one authorization path of the dashboard: pages call `requireOrgRole`, server actions go through
 * `orgAction` (which calls `authorizeOrg`), session JSON routes through `withSession`. An org the user does not
 * belong to is indistinguishable from one that does not exist.
 */
import { notFound, redirect } from 'next/navigation';
import { db as sharedDb } from '../db/client.ts';
import type { Role } from '../generated/prisma/client.ts';
import { AppError } from '../http/errors.ts';
import type { DbOrTx } from '../users/create-user.ts';
import { can, type Permission } from './permissions.ts';
import { getSessionUser, type SessionUser, signInPath } from './session.ts';

export type OrgContext = {
  org: { id: string; slug: string; name: string };
  user: SessionUser;
  membership: { id: string; role: Role };
};

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user's place in the org, or null when the org does not exist or the user is not a member. */
export async function getOrgContext(
  orgSlug: string,
  userId: string,
  db: DbOrTx = sharedDb,
): Promise<OrgContext | null> {
  if (!uuidPattern.test(userId) || typeof orgSlug !== 'string' || orgSlug === '') return null;
  const membership = await db.membership.findFirst({
    where: { userId, org: { slug: orgSlug } },
    select: {
      id: true,
      role: true,
      org: { select: { id: true, slug: true, name: true } },
      user: { select: { id: true, email: true, name: true } },
    },
  });
  if (!membership) return null;
  return {
    org: membership.org,
    user: membership.user,
    membership: { id: membership.id, role: membership.role },
  };
}

/** `authorizeOrg` for an already known principal (null when signed out). */
export async function authorizeOrgForUser(
  user: SessionUser | null,
  orgSlug: string,
  permission: Permission,
  db: DbOrTx = sharedDb,
): Promise<OrgContext> {
  if (!user) throw new AppError('unauthenticated', 'Sign in to continue');
  const ctx = await getOrgContext(orgSlug, user.id, db);
  if (!ctx) throw new AppError('not_found', 'Not found');
  if (!can(ctx.membership.role, permission)) {
    throw new AppError('forbidden', "You don't have permission to do this");
  }
  return ctx;
}

/** For server actions and JSON routes: the org context of the signed-in user, or an AppError. */
export async function authorizeOrg(orgSlug: string, permission: Permission): Promise<OrgContext> {
  return authorizeOrgForUser(await getSessionUser(), orgSlug, permission);
}

/**
 * For page.tsx: signed out → sign-in page (back to the org afterwards); unknown org or not a member → 404;
 * a role without the permission → /forbidden.
 */
export async function requireOrgRole(orgSlug: string, permission: Permission): Promise<OrgContext> {
  const user = await getSessionUser();
  if (!user) redirect(signInPath(`/${orgSlug}`));
  const ctx = await getOrgContext(orgSlug, user.id);
  if (!ctx) notFound();
  if (!can(ctx.membership.role, permission)) redirect('/forbidden');
  return ctx;
}

/** The user's orgs for the org switcher, by name. */
export async function listOrgsForUser(
  userId: string,
  db: DbOrTx = sharedDb,
): Promise<{ slug: string; name: string; role: Role }[]> {
  if (!uuidPattern.test(userId)) return [];
  const memberships = await db.membership.findMany({
    where: { userId },
    select: { role: true, org: { select: { slug: true, name: true } } },
    orderBy: [{ org: { name: 'asc' } }, { org: { slug: 'asc' } }],
  });
  return memberships.map((m) => ({ slug: m.org.slug, name: m.org.name, role: m.role }));
}
