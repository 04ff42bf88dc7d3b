import type { Metadata } from 'next';
import Link from 'next/link';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { can } from '@/lib/auth/permissions';

export const metadata: Metadata = { title: 'Overview' };

export default async function OverviewPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'overview:view');
  const role = ctx.membership.role;

  const nextSteps = [
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
        <EmptyState title="No credits yet">
          The credit ledger shows the pool here once credits are granted: what is available, what is reserved by
          running calls and what each user has spent.
        </EmptyState>
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
