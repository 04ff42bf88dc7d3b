import type { Metadata } from 'next';
import Link from 'next/link';
import { CreditStats } from '@/components/ledger/credit-stats';
import { isPositive, isZero, showCredits } from '@/components/ledger/credits';
import { LotsTable } from '@/components/ledger/lots-table';
import { TransactionList } from '@/components/ledger/transaction-list';
import { poolTransactionView } from '@/components/ledger/transaction-view';
import { Alert } from '@/components/ui/alert';
import { buttonClass } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { formatDateTime } from '@/components/ui/format';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { can } from '@/lib/auth/permissions';
import { db } from '@/lib/db/client';
import { getLedgerContext } from '@/lib/ledger/context';
import { getOrgPolicy, orgPolicyDto } from '@/lib/ledger/policies';
import { getBalance, listLots, listTransactions } from '@/lib/ledger/queries';
import { listMembers } from '@/lib/orgs/orgs';
import { GrantForm } from './grant-form';
import { MemberCreditsForm } from './member-credits-form';
import { OrgPolicyForm } from './org-policy-form';
import { TransferForm } from './transfer-form';

export const metadata: Metadata = { title: 'Credit pool' };

/** How far back the page looks for the pool's recent transactions among the org's journal. */
const RECENT_SHOWN = 10;

type PoolPageProps = {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export default async function PoolPage({ params, searchParams }: PoolPageProps) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'pool:view');
  const manage = can(ctx.membership.role, 'pool:manage');
  const showAllLots = (await searchParams).lots === 'all';
  const ledger = getLedgerContext();

  // The balance first: reading it sweeps expired lots and holds, so the lots below are current.
  const balance = await getBalance(ledger, ctx.org.id);
  const [lots, journal, members, policy] = await Promise.all([
    listLots(ledger, ctx.org.id, { includeSpent: showAllLots }),
    listTransactions(ledger, ctx.org.id, { pool: true, limit: RECENT_SHOWN }),
    listMembers(db, ctx.org.id),
    getOrgPolicy(ledger, ctx.org.id),
  ]);
  const names = new Map(members.map((m) => [m.userId, m.name || m.email || 'Unnamed member']));
  const memberOptions = members.map((m) => ({
    value: m.userId,
    label: m.name && m.email ? `${m.name} (${m.email})` : m.name || m.email || m.externalId || m.userId,
  }));
  const recent = journal.data.map((t) => poolTransactionView(t, names));
  const policyValues = orgPolicyDto(policy);
  const empty = isZero(balance.total) && lots.length === 0 && journal.data.length === 0;
  const ledgerHref = `/${ctx.org.slug}/ledger`;

  return (
    <>
      <PageHeader
        title="Credit pool"
        description={`${ctx.org.name}'s prepaid credits and how they are allocated to users.`}
        actions={
          <Link href={ledgerHref} className={buttonClass('secondary')}>
            Open the ledger
          </Link>
        }
      />
      <div className="space-y-8">
        <CreditStats
          label="Pool balance"
          stats={[
            { label: 'Available', value: showCredits(balance.available), detail: 'What allocations and pool fallback can use now.' },
            { label: 'Reserved', value: showCredits(balance.reserved), detail: 'Held by running calls funded by the pool.' },
            { label: 'Total', value: showCredits(balance.total), detail: 'Available plus reserved.' },
            {
              label: `Expiring within ${balance.expiring_soon.within_days} days`,
              value: showCredits(balance.expiring_soon.amount),
              tone: isPositive(balance.expiring_soon.amount) ? 'warning' : 'default',
              detail: balance.expiring_soon.next_expiry
                ? `Next expiry ${formatDateTime(balance.expiring_soon.next_expiry)}`
                : 'No pool credits expire.',
            },
          ]}
        />
        {isPositive(balance.debt) ? (
          <Alert tone="warning" title="The pool is in overdraft">
            Charges beyond its credits left a debt of {showCredits(balance.debt)}, which the next credits that arrive pay
            back first.
          </Alert>
        ) : null}

        {empty ? (
          <EmptyState title="No credits yet">
            {manage
              ? 'Grant credits below to fill the pool; then allocate them to members or let members draw from the pool.'
              : 'Credits appear here once an owner or admin grants them to the pool.'}
          </EmptyState>
        ) : null}

        {manage ? (
          <div className="grid gap-6 lg:grid-cols-2">
            <Card title="Grant credits" description="Promotional or manual credits into the pool.">
              <GrantForm orgSlug={ctx.org.slug} />
            </Card>
            <Card title="Allocate or reclaim" description="Move credits from the pool to a member, or take unused ones back.">
              {memberOptions.length > 0 ? (
                <MemberCreditsForm orgSlug={ctx.org.slug} members={memberOptions} />
              ) : (
                <p className="text-sm text-zinc-600">The org has no members yet.</p>
              )}
            </Card>
            <Card
              title="Transfer"
              description="Between two members, or between a member and the pool. Transfers are recorded in the audit trail."
              className="lg:col-span-2"
            >
              <TransferForm orgSlug={ctx.org.slug} members={memberOptions} />
            </Card>
          </div>
        ) : null}

        <section aria-labelledby="lots-heading" className="space-y-3">
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <h2 id="lots-heading" className="text-lg font-semibold text-zinc-900">
              Lots
            </h2>
            <Link href={showAllLots ? `/${ctx.org.slug}/pool` : `/${ctx.org.slug}/pool?lots=all`} className="text-sm font-medium text-accent-700 hover:underline">
              {showAllLots ? 'Show only lots with credits left' : 'Include spent and expired lots'}
            </Link>
          </div>
          {lots.length > 0 ? (
            <LotsTable caption="Pool lots" lots={lots} />
          ) : (
            <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">
              {showAllLots ? 'The pool has never received credits.' : 'No lot in the pool has credits left.'}
            </p>
          )}
        </section>

        <section aria-labelledby="recent-heading" className="space-y-3">
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <h2 id="recent-heading" className="text-lg font-semibold text-zinc-900">
              Recent pool transactions
            </h2>
            <Link href={ledgerHref} className="text-sm font-medium text-accent-700 hover:underline">
              All transactions in the ledger
            </Link>
          </div>
          <TransactionList
            label="Recent pool transactions"
            transactions={recent}
            empty="No credits have moved through the pool yet."
          />
        </section>

        <Card
          title="Credit policy"
          description="How credits are handed out to members and how far usage may go. Members can have their own overrides."
        >
          {manage ? (
            <OrgPolicyForm orgSlug={ctx.org.slug} policy={policyValues} />
          ) : (
            <PolicySummary policy={policyValues} />
          )}
        </Card>
      </div>
    </>
  );
}

function PolicySummary({ policy }: { policy: ReturnType<typeof orgPolicyDto> }) {
  const amount = (v: string | null, none: string) => (v === null ? none : showCredits(v));
  const rows: [string, string][] = [
    ['Automatic allocation for new members', showCredits(policy.auto_allocation)],
    ['Monthly refill to', amount(policy.monthly_refill_to, 'No refill')],
    ['Pool fallback', policy.pool_fallback ? 'On' : 'Off'],
    ['Daily pool limit per member', amount(policy.pool_daily_limit, 'No limit')],
    ['Monthly pool limit per member', amount(policy.pool_monthly_limit, 'No limit')],
    ['Overdraft limit', showCredits(policy.overdraft_limit)],
    ['Default reservation TTL', `${policy.default_reservation_ttl_seconds} s`],
    ['Maximum reservation TTL', `${policy.max_reservation_ttl_seconds} s`],
  ];
  return (
    <dl className="grid gap-x-6 gap-y-3 sm:grid-cols-2">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt className="text-sm text-zinc-600">{label}</dt>
          <dd className="text-sm font-medium text-zinc-900">{value}</dd>
        </div>
      ))}
    </dl>
  );
}
