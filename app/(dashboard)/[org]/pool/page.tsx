import type { Metadata } from 'next';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';

export const metadata: Metadata = { title: 'Credit pool' };

export default async function PoolPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'pool:view');

  return (
    <>
      <PageHeader title="Credit pool" description={`${ctx.org.name}'s prepaid credits and how they are allocated to users.`} />
      <EmptyState title="No credits yet">
        The credit ledger shows the pool here once credits are granted: the balance, reservations held by running calls, and allocations to users.
      </EmptyState>
    </>
  );
}
