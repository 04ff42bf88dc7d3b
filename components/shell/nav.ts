/**
 * Maps a role to what the shell shows: the sections it may open and where each of the user's orgs leads.
 * Showing is not authorizing: every page still calls requireOrgRole.
 */
import { can, navSections } from '@/lib/auth/permissions';
import type { Role } from '@/lib/generated/prisma/enums';
import type { ShellNavItem, ShellOrg } from './types';

export function navForRole(role: Role, orgSlug: string): ShellNavItem[] {
  return navSections
    .filter((section) => can(role, section.permission))
    .map((section) => ({ key: section.key, label: section.label, href: section.href(orgSlug) }));
}

/** Where an org's name leads: its overview when the role may see it, else the user's own balance there. */
export function orgHomeHref(role: Role, orgSlug: string): string {
  return can(role, 'overview:view') ? `/${orgSlug}` : `/balance?org=${encodeURIComponent(orgSlug)}`;
}

export function shellOrgs(orgs: readonly { slug: string; name: string; role: Role }[]): ShellOrg[] {
  return orgs.map((o) => ({ slug: o.slug, name: o.name, role: o.role, href: orgHomeHref(o.role, o.slug) }));
}
