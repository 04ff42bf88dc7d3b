import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { buttonClass } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { TextField } from '@/components/ui/field';
import { formatDateTime } from '@/components/ui/format';
import { PageHeader } from '@/components/ui/page-header';
import { Table, Td, Th } from '@/components/ui/table';
import { requireOrgRole } from '@/lib/auth/authorize';
import { can } from '@/lib/auth/permissions';
import { getLedgerContext } from '@/lib/ledger/context';
import { browseCatalog, getOrgPricing, type PriceView } from '@/lib/pricing/browse';
import { ModelOverrideForm, PricingSettingsForm, RemoveOverrideButton } from './pricing-forms';

export const metadata: Metadata = { title: 'Models and prices' };

const PAGE_SIZE = 50;

type Props = {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

function one(value: string | string[] | undefined): string | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  return v ? v.slice(0, 200) : undefined;
}

function PriceRows({ rows, action }: { rows: PriceView[]; action?: (row: PriceView) => ReactNode }) {
  return rows.map((r) => (
    <tr key={`${r.provider}:${r.model}`}>
      <Td>{r.provider}</Td>
      <Td className="font-mono text-xs">{r.model}</Td>
      <Td className="text-right tabular-nums">{r.input}</Td>
      <Td className="text-right tabular-nums">{r.output === '0' ? 'input only' : r.output}</Td>
      <Td className="text-right tabular-nums">{r.cachedInput ?? '—'}</Td>
      <Td className="text-right tabular-nums">{r.cacheWrite ?? '—'}</Td>
      <Td className="text-right tabular-nums">{r.reasoning ?? '—'}</Td>
      <Td className="text-xs text-zinc-600">
        {r.tiers.map((t) => `> ${t.start.toLocaleString('en-US')} input: ${t.input} / ${t.output}`).join('; ') || '—'}
        {r.requestFee ? ` · USD ${r.requestFee} per request` : ''}
      </Td>
      {action ? <Td>{action(r)}</Td> : null}
    </tr>
  ));
}

function PriceHead({ withAction }: { withAction?: boolean }) {
  return (
    <thead>
      <tr>
        <Th>Provider</Th>
        <Th>Model</Th>
        <Th className="text-right">Input</Th>
        <Th className="text-right">Output</Th>
        <Th className="text-right">Cached input</Th>
        <Th className="text-right">Cache write</Th>
        <Th className="text-right">Reasoning</Th>
        <Th>Long context and fees</Th>
        {withAction ? <Th /> : null}
      </tr>
    </thead>
  );
}

export default async function ModelsPage({ params, searchParams }: Props) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'usage:view');
  const query = await searchParams;
  const search = one(query.q);
  const pageNumber = Math.max(0, Math.min(1000, Number.parseInt(one(query.page) ?? '0', 10) || 0));
  const canEdit = can(ctx.membership.role, 'pricing:manage');
  const ledger = getLedgerContext();
  const [pricing, catalog] = await Promise.all([
    getOrgPricing(ledger, ctx.org.id),
    browseCatalog(ledger, ctx.org.id, { search, page: pageNumber, pageSize: PAGE_SIZE }),
  ]);
  const base = `/${ctx.org.slug}/models`;
  const pageHref = (p: number) => `${base}?${new URLSearchParams({ ...(search && { q: search }), page: String(p) })}`;

  return (
    <>
      <PageHeader
        title="Models and prices"
        description="What each model costs your org: list prices in USD per million tokens from the catalog or your own, converted at your rate with your markup. Every change is a new version; past usage keeps the version it was priced by."
      />
      <div className="space-y-6">
        <Card
          title="Rate and settings"
          description={[
            pricing.versionId ? `In force since ${formatDateTime(pricing.effectiveAt)}.` : 'The defaults: no version of your own yet.',
            pricing.nextScheduledAt
              ? `A version scheduled for ${formatDateTime(pricing.nextScheduledAt)} replaces these prices then. A change made here now is carried into it, except for the prices and settings that version sets itself.`
              : '',
          ]
            .filter(Boolean)
            .join(' ')}
        >
          {canEdit ? (
            <PricingSettingsForm
              orgSlug={ctx.org.slug}
              settings={{
                credits_per_usd: pricing.creditsPerUsd,
                markup_bps: pricing.markupBps,
                estimate_margin_bps: pricing.estimateMarginBps,
                estimate_output_cap: pricing.estimateOutputCap,
                default_input: pricing.defaultPrice?.input ?? '',
                default_output: pricing.defaultPrice?.output ?? '',
                discounts: pricing.discountTiers.map((t) => `${t.fromCredits}:${t.bps}`).join(', '),
              }}
            />
          ) : (
            <dl className="grid gap-2 text-sm sm:grid-cols-2">
              <div>Credits per USD: <strong>{pricing.creditsPerUsd}</strong></div>
              <div>Markup: <strong>{pricing.markupBps / 100}%</strong></div>
              <div>Estimate margin: <strong>{pricing.estimateMarginBps / 100}%</strong></div>
              <div>Estimate output cap: <strong>{pricing.estimateOutputCap.toLocaleString('en-US')} tokens</strong></div>
              <div>
                Volume discounts:{' '}
                <strong>{pricing.discountTiers.map((t) => `${t.bps / 100}% from ${t.fromCredits} credits a month`).join(', ') || 'none'}</strong>
              </div>
              <div>Unknown models: <strong>{pricing.defaultPrice ? `USD ${pricing.defaultPrice.input} / ${pricing.defaultPrice.output}` : 'refused'}</strong></div>
            </dl>
          )}
        </Card>

        <section className="space-y-3">
          <h2 className="text-base font-semibold text-zinc-900">Your prices</h2>
          <Table caption="The org's own model prices">
            <PriceHead withAction={canEdit} />
            <tbody className="divide-y divide-zinc-100">
              {pricing.overrides.length === 0 ? (
                <tr>
                  <Td className="text-zinc-500">No prices of your own: every model is priced by the catalog.</Td>
                </tr>
              ) : (
                <PriceRows rows={pricing.overrides} action={canEdit ? (r) => <RemoveOverrideButton orgSlug={ctx.org.slug} model={r.model} /> : undefined} />
              )}
            </tbody>
          </Table>
          {canEdit ? (
            <Card title="Set a model's price">
              <ModelOverrideForm orgSlug={ctx.org.slug} />
            </Card>
          ) : null}
        </section>

        <section className="space-y-3">
          <h2 className="text-base font-semibold text-zinc-900">Version history</h2>
          <Table caption="Versions of the org's prices">
            <thead>
              <tr>
                <Th>Effective</Th>
                <Th>Created</Th>
                <Th>By</Th>
                <Th>Note</Th>
                <Th className="text-right">Model prices</Th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100">
              {pricing.history.length === 0 ? (
                <tr>
                  <Td className="text-zinc-500">No versions yet.</Td>
                </tr>
              ) : (
                pricing.history.map((v) => (
                  <tr key={v.id}>
                    <Td>
                      {formatDateTime(v.effectiveAt)} {v.id === pricing.versionId ? <Badge tone="success">in force</Badge> : null}
                      {v.replaced ? <Badge tone="neutral">replaced</Badge> : v.scheduled ? <Badge tone="warning">scheduled</Badge> : null}
                    </Td>
                    <Td>{formatDateTime(v.createdAt)}</Td>
                    <Td>{v.createdBy ?? '—'}</Td>
                    <Td>{v.note ?? '—'}</Td>
                    <Td className="text-right tabular-nums">{v.models}</Td>
                  </tr>
                ))
              )}
            </tbody>
          </Table>
        </section>

        <section className="space-y-3">
          <h2 className="text-base font-semibold text-zinc-900">Catalog{catalog.catalogKey ? ` (${catalog.catalogKey})` : ''}</h2>
          <form method="get" action={base} className="flex items-end gap-2">
            <TextField label="Search models or providers" name="q" defaultValue={search} />
            <button type="submit" className={buttonClass('secondary')}>
              Search
            </button>
          </form>
          <Table caption="Catalog prices, USD per million tokens">
            <PriceHead />
            <tbody className="divide-y divide-zinc-100">
              {catalog.rows.length === 0 ? (
                <tr>
                  <Td className="text-zinc-500">No model matches.</Td>
                </tr>
              ) : (
                <PriceRows rows={catalog.rows} />
              )}
            </tbody>
          </Table>
          <nav aria-label="Catalog pages" className="flex items-center justify-between gap-2 text-sm text-zinc-600">
            {pageNumber > 0 ? <Link href={pageHref(pageNumber - 1)} className={buttonClass('secondary')}>Previous</Link> : <span />}
            <span>
              {catalog.total === 0 ? 0 : pageNumber * PAGE_SIZE + 1}–{Math.min(catalog.total, (pageNumber + 1) * PAGE_SIZE)} of {catalog.total}
            </span>
            {(pageNumber + 1) * PAGE_SIZE < catalog.total ? <Link href={pageHref(pageNumber + 1)} className={buttonClass('secondary')}>Next</Link> : <span />}
          </nav>
        </section>
      </div>
    </>
  );
}
