import type { Metadata } from 'next';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';

export const metadata: Metadata = { title: 'Forecasts' };

export default async function ForecastsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'forecasts:view');

  return (
    <>
      <PageHeader title="Forecasts" description={`When ${ctx.org.name}'s credits are expected to run out, based on past usage.`} />
      <EmptyState title="No forecast yet">
        Forecasts are computed from usage history, so they appear once credits have been granted and usage has been metered for a while.
      </EmptyState>
    </>
  );
}
