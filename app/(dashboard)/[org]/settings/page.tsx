import type { Metadata } from 'next';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { RenameOrgForm } from './rename-org-form';

export const metadata: Metadata = { title: 'Settings' };

export default async function SettingsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'settings:manage');

  return (
    <>
      <PageHeader title="Settings" description={`How ${ctx.org.name} is set up.`} />
      <div className="space-y-6">
        <Card title="Organization name" description="Shown to members in the sidebar and in invitations.">
          <RenameOrgForm orgSlug={ctx.org.slug} name={ctx.org.name} />
        </Card>
        <Card title="Organization URL">
          <p className="text-sm text-zinc-700">
            The slug <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs">{ctx.org.slug}</code> is
            part of every dashboard link and cannot be changed.
          </p>
        </Card>
      </div>
    </>
  );
}
