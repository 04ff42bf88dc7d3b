import type { Metadata } from 'next';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';

export const metadata: Metadata = { title: 'Invoices' };

export default async function InvoicesPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'invoices:view');

  return (
    <>
      <PageHeader title="Invoices" description={`Credit purchases and statements of ${ctx.org.name}.`} />
      <EmptyState title="No invoices yet">
        Invoices and receipts appear here once the organization buys credits.
      </EmptyState>
    </>
  );
}
