import type { Metadata } from 'next';
import { AppShell } from '@/components/shell/app-shell';
import { navForRole, shellOrgs } from '@/components/shell/nav';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { listOrgsForUser, requireOrgRole } from '@/lib/auth/authorize';
import { requireUser } from '@/lib/auth/session';

export const metadata: Metadata = { title: 'My balance' };

type BalancePageProps = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** The end user's own credits in one org (`?org=`, else their first org). */
export default async function BalancePage({ searchParams }: BalancePageProps) {
  const { org } = await searchParams;
  const requested = typeof org === 'string' && org !== '' ? org : null;
  const user = await requireUser(requested ? `/balance?org=${encodeURIComponent(requested)}` : '/balance');
  const orgs = await listOrgsForUser(user.id);
  const slug = requested ?? orgs[0]?.slug;

  if (!slug) {
    return (
      <AppShell user={user} orgs={[]} currentOrg={null} nav={[]}>
        <PageHeader title="My balance" />
        <EmptyState title="You are not a member of any organization yet">
          Ask an owner or admin of your organization for an invitation link, then open it while signed in to join.
        </EmptyState>
      </AppShell>
    );
  }

  const ctx = await requireOrgRole(slug, 'balance:view_own');
  const items = shellOrgs(orgs);

  return (
    <AppShell
      user={user}
      orgs={items}
      currentOrg={items.find((o) => o.slug === ctx.org.slug) ?? null}
      nav={navForRole(ctx.membership.role, ctx.org.slug)}
    >
      <PageHeader title="My balance" description={`Your credits in ${ctx.org.name}.`} />
      <div className="space-y-6">
        <dl className="grid gap-4 sm:grid-cols-2">
          <div className="rounded-lg border border-zinc-200 bg-white p-5 shadow-sm">
            <dt className="text-sm font-medium text-zinc-600">Available</dt>
            <dd className="mt-1 text-2xl font-semibold text-zinc-400">
              <span aria-hidden="true">—</span>
              <span className="sr-only">Not available yet</span>
            </dd>
          </div>
          <div className="rounded-lg border border-zinc-200 bg-white p-5 shadow-sm">
            <dt className="text-sm font-medium text-zinc-600">Reserved by running calls</dt>
            <dd className="mt-1 text-2xl font-semibold text-zinc-400">
              <span aria-hidden="true">—</span>
              <span className="sr-only">Not available yet</span>
            </dd>
          </div>
        </dl>
        <EmptyState title="Your balance appears here once credits are allocated to you">
          An admin of {ctx.org.name} allocates credits from the organization&apos;s pool. Your usage of LLM calls is
          then metered against it.
        </EmptyState>
      </div>
    </AppShell>
  );
}
