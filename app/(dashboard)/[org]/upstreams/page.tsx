import type { Metadata } from 'next';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { db } from '@/lib/db/client';
import { listUpstreams } from '@/lib/proxy/upstreams';
import { UpstreamForm } from './upstream-form';
import { UpstreamsTable } from './upstreams-table';

export const metadata: Metadata = { title: 'Upstreams' };

export default async function UpstreamsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'upstreams:manage');
  const upstreams = await listUpstreams(db, ctx.org.id);

  return (
    <>
      <PageHeader
        title="Upstreams"
        description={`The OpenAI-compatible APIs the proxy forwards ${ctx.org.name}'s requests to. A model goes to the upstream whose patterns match it most closely, else to the default upstream.`}
      />
      <div className="space-y-8">
        <Card title="Add an upstream" description="Its API key is stored encrypted and never shown again.">
          <UpstreamForm orgSlug={ctx.org.slug} />
        </Card>
        <section aria-labelledby="upstreams-heading" className="space-y-3">
          <h2 id="upstreams-heading" className="text-lg font-semibold text-zinc-900">
            Upstreams
          </h2>
          <UpstreamsTable
            orgSlug={ctx.org.slug}
            upstreams={upstreams.map((u) => ({
              id: u.id,
              name: u.name,
              baseUrl: u.baseUrl,
              apiKeyLast4: u.apiKeyLast4,
              modelPatterns: u.modelPatterns,
              enabled: u.enabled,
              updatedAt: u.updatedAt.toISOString(),
            }))}
          />
        </section>
      </div>
    </>
  );
}
