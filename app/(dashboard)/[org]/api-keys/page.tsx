import type { Metadata } from 'next';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { listApiKeys } from '@/lib/auth/api-keys';
import { requireOrgRole } from '@/lib/auth/authorize';
import { db } from '@/lib/db/client';
import { ApiKeysTable } from './api-keys-table';
import { CreateApiKeyForm } from './create-api-key-form';

export const metadata: Metadata = { title: 'API keys' };

export default async function ApiKeysPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'api_keys:manage');
  const keys = await listApiKeys(db, ctx.org.id);

  return (
    <>
      <PageHeader
        title="API keys"
        description={`Keys that let your LLM backend and integrations act for ${ctx.org.name}. Send one as a bearer token.`}
      />
      <div className="space-y-8">
        <Card title="Create a key" description="Give each backend its own key with the fewest scopes it needs.">
          <CreateApiKeyForm orgSlug={ctx.org.slug} />
        </Card>
        <section aria-labelledby="keys-heading" className="space-y-3">
          <h2 id="keys-heading" className="text-lg font-semibold text-zinc-900">
            Keys
          </h2>
          <ApiKeysTable
            orgSlug={ctx.org.slug}
            keys={keys.map((k) => ({
              id: k.id,
              name: k.name,
              prefix: k.prefix,
              scopes: k.scopes,
              createdAt: k.createdAt.toISOString(),
              lastUsedAt: k.lastUsedAt ? k.lastUsedAt.toISOString() : null,
              revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
            }))}
          />
        </section>
      </div>
    </>
  );
}
