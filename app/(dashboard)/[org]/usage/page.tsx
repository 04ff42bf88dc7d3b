import type { Metadata } from 'next';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';

export const metadata: Metadata = { title: 'Usage' };

export default async function UsagePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'usage:view');

  return (
    <>
      <PageHeader title="Usage" description={`Metered LLM calls of ${ctx.org.name}, by user, model and day.`} />
      <EmptyState title="No usage recorded yet">
        Usage appears here once your LLM backend reports metered calls with an API key of this organization.
      </EmptyState>
    </>
  );
}
