import type { Metadata } from 'next';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { db } from '@/lib/db/client';
import { formatCredits } from '@/lib/money/credits';
import { listApiKeys, scopeAllows } from '@/lib/auth/api-keys';
import { getOrgProxySettings, listKeyLimits } from '@/lib/proxy/settings';
import { listUpstreams } from '@/lib/proxy/upstreams';
import { KeyLimits } from './key-limits';
import { ProxySettingsForm } from './proxy-settings-form';
import { UpstreamForm } from './upstream-form';
import { UpstreamsTable } from './upstreams-table';

export const metadata: Metadata = { title: 'Upstreams' };

export default async function UpstreamsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'upstreams:manage');
  const [upstreams, settings, keys, keyLimits] = await Promise.all([
    listUpstreams(db, ctx.org.id),
    getOrgProxySettings(db, ctx.org.id),
    listApiKeys(db, ctx.org.id),
    listKeyLimits(db, ctx.org.id),
  ]);
  const meterKeys = keys.filter((k) => !k.revokedAt && scopeAllows(k.scopes, ['meter']));

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
        <Card
          title="Proxy limits"
          description="Rate limits of proxied requests, and what the proxy does when the credit database cannot be reached."
        >
          <ProxySettingsForm
            orgSlug={ctx.org.slug}
            settings={{ ...settings.limits, degradation: settings.degradation, failOpenUserCap: formatCredits(settings.failOpenUserCap) }}
          />
        </Card>
        <Card
          title="Limits for one API key"
          description="Replace the per-key limits above for one key, e.g. a batch backend that may send more, or a test key that should send less."
        >
          <KeyLimits
            orgSlug={ctx.org.slug}
            keys={meterKeys.map((k) => ({ id: k.id, label: `${k.name} (${k.prefix}…)` }))}
            limits={keyLimits}
          />
        </Card>
      </div>
    </>
  );
}
