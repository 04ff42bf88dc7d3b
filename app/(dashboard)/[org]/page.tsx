import type { Metadata } from 'next';
import Link from 'next/link';
import { CreditStats } from '@/components/ledger/credit-stats';
import { showCredits } from '@/components/ledger/credits';
import { Alert } from '@/components/ui/alert';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { can } from '@/lib/auth/permissions';
import { getLedgerContext } from '@/lib/ledger/context';
import { CONSUMPTION_WINDOW_DAYS, getLedgerSummary } from '@/lib/ledger/summary';

export const metadata: Metadata = { title: 'Overview' };

export default async function OverviewPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'overview:view');
  const role = ctx.membership.role;
  const summary = await getLedgerSummary(getLedgerContext(), ctx.org.id);
  const noCredits = !summary.hasActivity && summary.pool.balance === 0n && summary.members.balance === 0n;
  const debt = summary.pool.debt + summary.members.debt;

  const nextSteps = [
    noCredits &&
      can(role, 'pool:manage') && {
        href: `/${slug}/pool`,
        title: 'Fill the credit pool',
        text: 'Grant credits to the pool, then allocate them to members or let them draw from the pool.',
      },
    can(role, 'users:manage') && {
      href: `/${slug}/users`,
      title: 'Invite your team',
      text: 'Add the people who will use credits and choose their roles.',
    },
    can(role, 'api_keys:manage') && {
      href: `/${slug}/api-keys`,
      title: 'Create an API key',
      text: 'Your LLM backend uses a key with the meter scope to report usage.',
    },
    can(role, 'settings:manage') && {
      href: `/${slug}/settings`,
      title: 'Review settings',
      text: 'Rename the organization and manage how it is set up.',
    },
  ].filter((step): step is { href: string; title: string; text: string } => Boolean(step));

  return (
    <>
      <PageHeader title="Overview" description={`How ${ctx.org.name} is using its credits.`} />
      <div className="space-y-6">
        {noCredits ? (
          <EmptyState title="No credits yet">
            The credit ledger shows the pool here once credits are granted: what is available, what is reserved by
            running calls and what each user has spent.
          </EmptyState>
        ) : (
          <>
            <CreditStats
              label="Credits at a glance"
              stats={[
                { label: 'Pool available', value: showCredits(summary.pool.available), detail: 'Ready to allocate or to fund pool fallback.' },
                {
                  label: 'Pool reserved',
                  value: showCredits(summary.pool.held),
                  tone: summary.pool.held === 0n ? 'muted' : 'default',
                  detail: 'Held by running calls funded by the pool.',
                },
                {
                  label: 'Allocated to members',
                  value: showCredits(summary.members.balance),
                  tone: summary.members.balance === 0n ? 'muted' : 'default',
                  detail:
                    summary.members.withCredits === 0
                      ? 'No member holds credits.'
                      : `${summary.members.withCredits} ${summary.members.withCredits === 1 ? 'member holds' : 'members hold'} credits; ${showCredits(summary.members.held)} reserved by running calls.`,
                },
                {
                  label: `Consumed in ${CONSUMPTION_WINDOW_DAYS} days`,
                  value: showCredits(summary.consumed),
                  tone: summary.consumed === 0n ? 'muted' : 'default',
                  detail: summary.consumed === 0n ? 'No LLM usage was charged in this period.' : 'Charged for LLM usage.',
                },
              ]}
            />
            {debt > 0n ? (
              <Alert tone="warning">
                Overdraft charges left {showCredits(debt)} unpaid; the next credits that arrive pay it back first.
              </Alert>
            ) : null}
          </>
        )}
        {nextSteps.length > 0 ? (
          <Card title="Next steps">
            <ul className="divide-y divide-zinc-100">
              {nextSteps.map((step) => (
                <li key={step.href} className="py-3 first:pt-0 last:pb-0">
                  <Link href={step.href} className="rounded-sm font-medium text-accent-700 hover:underline">
                    {step.title}
                  </Link>
                  <p className="text-sm text-zinc-600">{step.text}</p>
                </li>
              ))}
            </ul>
          </Card>
        ) : null}
      </div>
    </>
  );
}
