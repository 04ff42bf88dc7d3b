import type { ReactNode } from 'react';
import { AppShell } from '@/components/shell/app-shell';
import { navForRole, shellOrgs } from '@/components/shell/nav';
import { listOrgsForUser } from '@/lib/auth/authorize';
import { getSessionUser } from '@/lib/auth/session';

/**
 * The dashboard frame. It only decides what the navigation shows; each page authorizes itself with
 * requireOrgRole, because a layout does not re-render on every navigation and is no security boundary.
 */
export default async function OrgLayout({ children, params }: { children: ReactNode; params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const user = await getSessionUser();
  const orgs = user ? await listOrgsForUser(user.id) : [];
  const current = orgs.find((o) => o.slug === slug) ?? null;
  const items = shellOrgs(orgs);

  return (
    <AppShell
      user={user ? { name: user.name ?? null, email: user.email ?? null } : null}
      orgs={items}
      currentOrg={items.find((o) => o.slug === current?.slug) ?? null}
      nav={current ? navForRole(current.role, current.slug) : []}
    >
      {children}
    </AppShell>
  );
}
