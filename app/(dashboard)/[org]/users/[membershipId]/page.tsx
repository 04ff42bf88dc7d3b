import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { CreditStats } from '@/components/ledger/credit-stats';
import { isPositive, showCredits } from '@/components/ledger/credits';
import { LotsTable } from '@/components/ledger/lots-table';
import { TransactionList } from '@/components/ledger/transaction-list';
import { memberTransactionView } from '@/components/ledger/transaction-view';
import { Alert } from '@/components/ui/alert';
import { Badge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { formatDate, formatDateTime } from '@/components/ui/format';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { can } from '@/lib/auth/permissions';
import { db } from '@/lib/db/client';
import { getLedgerContext } from '@/lib/ledger/context';
import { getMemberPolicy, getOrgPolicy, memberPolicyDto, orgPolicyDto } from '@/lib/ledger/policies';
import { getBalance, listLots, listTransactions } from '@/lib/ledger/queries';
import { listMembers } from '@/lib/orgs/orgs';
import { MemberCreditsForm } from '../../pool/member-credits-form';
import { MemberPolicyForm } from './member-policy-form';

export const metadata: Metadata = { title: 'Member credits' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RECENT = 20;

type Props = { params: Promise<{ org: string; membershipId: string }> };

export default async function MemberPage({ params }: Props) {
  const { org: slug, membershipId } = await params;
  const ctx = await requireOrgRole(slug, 'users:manage');
  // Another org's member is as unknown as a member that does not exist.
  const membership = UUID.test(membershipId)
    ? await db.membership.findFirst({
        where: { id: membershipId, orgId: ctx.org.id },
        select: { id: true, role: true, externalId: true, createdAt: true, user: { select: { id: true, email: true, name: true } } },
      })
    : null;
  if (!membership) notFound();

  const manage = can(ctx.membership.role, 'pool:manage');
  const ledger = getLedgerContext();
  const userId = membership.user.id;
  const balance = await getBalance(ledger, ctx.org.id, userId);
  const [lots, journal, members, memberPolicy, orgPolicy] = await Promise.all([
    listLots(ledger, ctx.org.id, { user: userId, includeSpent: true }),
    listTransactions(ledger, ctx.org.id, { user: userId, limit: RECENT }),
    listMembers(db, ctx.org.id),
    getMemberPolicy(ledger, membership.id),
    getOrgPolicy(ledger, ctx.org.id),
  ]);
  const names = new Map(members.map((m) => [m.userId, m.name || m.email || 'Unnamed member']));
  const who = membership.user.name || membership.user.email || membership.externalId || 'Member';
  const org = orgPolicyDto(orgPolicy);
  const none = (v: string | null, text: string) => (v === null ? text : showCredits(v));

  return (
    <>
      <p className="mb-2 text-sm">
        <Link href={`/${ctx.org.slug}/users`} className="font-medium text-accent-700 hover:underline">
          ← Users
        </Link>
      </p>
      <PageHeader
        title={who}
        description={
          <>
            <Badge>{membership.role}</Badge>
            {membership.user.email && membership.user.name ? <span className="ml-2">{membership.user.email}</span> : null}
            {membership.externalId ? <span className="ml-2">External id {membership.externalId}</span> : null}
            <span className="ml-2">Joined {formatDate(membership.createdAt)}</span>
          </>
        }
      />
      <div className="space-y-8">
        <CreditStats
          label={`Credits of ${who}`}
          stats={[
            { label: 'Available', value: showCredits(balance.available) },
            { label: 'Reserved', value: showCredits(balance.reserved), detail: 'Held by running calls.' },
            { label: 'Total', value: showCredits(balance.total) },
            {
              label: `Expiring within ${balance.expiring_soon.within_days} days`,
              value: showCredits(balance.expiring_soon.amount),
              tone: isPositive(balance.expiring_soon.amount) ? 'warning' : 'default',
              detail: balance.expiring_soon.next_expiry ? `Next expiry ${formatDateTime(balance.expiring_soon.next_expiry)}` : 'Nothing expires.',
            },
          ]}
        />
        {isPositive(balance.debt) ? (
          <Alert tone="warning">This member owes {showCredits(balance.debt)} from overdraft; their next credits pay it back first.</Alert>
        ) : null}

        {manage ? (
          <Card title="Allocate or reclaim" description="From the pool to this member, or their unused credits back to the pool.">
            <MemberCreditsForm orgSlug={ctx.org.slug} member={{ value: userId, label: who }} />
          </Card>
        ) : null}

        <section aria-labelledby="member-lots" className="space-y-3">
          <h2 id="member-lots" className="text-lg font-semibold text-zinc-900">
            Lots
          </h2>
          {lots.length > 0 ? (
            <LotsTable caption={`Lots of ${who}`} lots={lots} />
          ) : (
            <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">
              No credits were ever allocated or transferred to this member.
            </p>
          )}
        </section>

        <section aria-labelledby="member-transactions" className="space-y-3">
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <h2 id="member-transactions" className="text-lg font-semibold text-zinc-900">
              Recent transactions
            </h2>
            <Link href={`/${ctx.org.slug}/ledger?user=${encodeURIComponent(userId)}`} className="text-sm font-medium text-accent-700 hover:underline">
              All of them in the ledger
            </Link>
          </div>
          <TransactionList
            label={`Recent transactions of ${who}`}
            transactions={journal.data.map((t) => memberTransactionView(t, names))}
            empty="No transaction has touched this member's credits yet."
          />
        </section>

        <Card title="Policy overrides" description="Values for this member that replace the org's credit policy.">
          {manage ? (
            <MemberPolicyForm
              orgSlug={ctx.org.slug}
              membershipId={membership.id}
              policy={memberPolicyDto(memberPolicy)}
              defaults={{
                auto_allocation: showCredits(org.auto_allocation),
                monthly_refill_to: none(org.monthly_refill_to, 'no refill'),
                pool_fallback: org.pool_fallback ? 'on' : 'off',
                pool_daily_limit: none(org.pool_daily_limit, 'no limit'),
                pool_monthly_limit: none(org.pool_monthly_limit, 'no limit'),
              }}
            />
          ) : (
            <p className="text-sm text-zinc-600">Only owners and admins can change a member&apos;s credit policy.</p>
          )}
        </Card>
      </div>
    </>
  );
}
