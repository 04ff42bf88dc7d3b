import type { Metadata } from 'next';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';

export const metadata: Metadata = { title: 'Alerts' };

export default async function AlertsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'alerts:manage');

  return (
    <>
      <PageHeader title="Alerts" description={`Notifications for ${ctx.org.name} when credits run low or spending is unusual.`} />
      <EmptyState title="No alert rules yet">
        Alert rules watch the credit pool and user balances; they become available here together with the credit ledger.
      </EmptyState>
    </>
  );
}
