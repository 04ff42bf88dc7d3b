import type { Metadata } from 'next';
import { CreditStats } from '@/components/ledger/credit-stats';
import { isPositive, isZero, showCredits } from '@/components/ledger/credits';
import { LotsTable } from '@/components/ledger/lots-table';
import { TransactionList } from '@/components/ledger/transaction-list';
import { ownTransactionView } from '@/components/ledger/transaction-view';
import { AppShell } from '@/components/shell/app-shell';
import { navForRole, shellOrgs } from '@/components/shell/nav';
import { Alert } from '@/components/ui/alert';
import { EmptyState } from '@/components/ui/empty-state';
import { formatDateTime } from '@/components/ui/format';
import { PageHeader } from '@/components/ui/page-header';
import { listOrgsForUser, requireOrgRole } from '@/lib/auth/authorize';
import { requireUser } from '@/lib/auth/session';
import { getLedgerContext } from '@/lib/ledger/context';
import { getBalance, listLots, listTransactions } from '@/lib/ledger/queries';

export const metadata: Metadata = { title: 'My balance' };

const RECENT_CHARGES = 20;

type BalancePageProps = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * The end user's own credits in one org (`?org=`, else their first org). Everything here is read for the
 * signed-in user's own account: no other member, account or actor is ever shown.
 */
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
  const ledger = getLedgerContext();
  // The reference is the signed-in user's own id, never a parameter of the request.
  const own = ctx.user.id;
  const balance = await getBalance(ledger, ctx.org.id, own);
  const [lots, charges] = await Promise.all([
    listLots(ledger, ctx.org.id, { user: own }),
    listTransactions(ledger, ctx.org.id, { user: own, kind: 'charge', limit: RECENT_CHARGES }),
  ]);
  const neverHadCredits = isZero(balance.total) && lots.length === 0 && charges.data.length === 0 && isZero(balance.debt);

  return (
    <AppShell
      user={user}
      orgs={items}
      currentOrg={items.find((o) => o.slug === ctx.org.slug) ?? null}
      nav={navForRole(ctx.membership.role, ctx.org.slug)}
    >
      <PageHeader title="My balance" description={`Your credits in ${ctx.org.name}.`} />
      {neverHadCredits ? (
        <EmptyState title="Your balance appears here once credits are allocated to you">
          An admin of {ctx.org.name} allocates credits from the organization&apos;s pool. Your usage of LLM calls is
          then metered against it.
        </EmptyState>
      ) : (
        <div className="space-y-8">
          <CreditStats
            label="Your balance"
            stats={[
              { label: 'Available', value: showCredits(balance.available), detail: 'What your next LLM calls can use.' },
              { label: 'Reserved by running calls', value: showCredits(balance.reserved), detail: 'Settled when those calls finish.' },
              {
                label: `Expiring within ${balance.expiring_soon.within_days} days`,
                value: showCredits(balance.expiring_soon.amount),
                tone: isPositive(balance.expiring_soon.amount) ? 'warning' : 'default',
                detail: balance.expiring_soon.next_expiry
                  ? `Next expiry ${formatDateTime(balance.expiring_soon.next_expiry)}`
                  : 'None of your credits expire.',
              },
            ]}
          />
          {isPositive(balance.debt) ? (
            <Alert tone="warning">
              Your last calls cost {showCredits(balance.debt)} more than your credits; the next credits you receive pay
              that back first.
            </Alert>
          ) : null}

          <section aria-labelledby="my-lots" className="space-y-3">
            <h2 id="my-lots" className="text-lg font-semibold text-zinc-900">
              Your credits
            </h2>
            {lots.length > 0 ? (
              <LotsTable caption="Your credits by lot" lots={lots} />
            ) : (
              <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">
                You have no credits left. Ask an admin of {ctx.org.name} for more.
              </p>
            )}
          </section>

          <section aria-labelledby="my-charges" className="space-y-3">
            <h2 id="my-charges" className="text-lg font-semibold text-zinc-900">
              Recent charges
            </h2>
            <TransactionList
              label="Your recent charges"
              transactions={charges.data.map(ownTransactionView)}
              empty="No LLM calls have been charged to you yet."
            />
          </section>
        </div>
      )}
    </AppShell>
  );
}
