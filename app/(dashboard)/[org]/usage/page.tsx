import type { Metadata } from 'next';
import Link from 'next/link';
import { CreditStats } from '@/components/ledger/credit-stats';
import { showCredits } from '@/components/ledger/credits';
import { Alert } from '@/components/ui/alert';
import { Badge } from '@/components/ui/badge';
import { buttonClass } from '@/components/ui/button';
import { formatDateTime } from '@/components/ui/format';
import { PageHeader } from '@/components/ui/page-header';
import { Table, Td, Th } from '@/components/ui/table';
import { requireOrgRole } from '@/lib/auth/authorize';
import { db } from '@/lib/db/client';
import { isAppError } from '@/lib/http/errors';
import { listMembers } from '@/lib/orgs/orgs';
import { listUsageRecords, listUsedModels, summarizeUsage, type UsageRecordRow } from '@/lib/usage/queries';
import { UsageFilters } from './usage-filters';
import { parseUsageFilter, statusTone, usageQuery } from './usage-filter';

export const metadata: Metadata = { title: 'Usage' };

const PAGE_SIZE = 50;

type UsagePageProps = {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export default async function UsagePage({ params, searchParams }: UsagePageProps) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'usage:view');
  const { values, filter, errors } = parseUsageFilter(await searchParams);
  const { cursor: _cursor, ...range } = filter;
  const [members, keys, models, summary] = await Promise.all([
    listMembers(db, ctx.org.id),
    db.apiKey.findMany({ where: { orgId: ctx.org.id }, select: { id: true, name: true, prefix: true }, orderBy: { createdAt: 'asc' } }),
    listUsedModels(db, ctx.org.id),
    summarizeUsage(db, ctx.org.id, range),
  ]);
  const memberNames = new Map(members.map((m) => [m.membershipId, m.name || m.email || m.externalId || 'Unnamed member']));
  const keyNames = new Map(keys.map((k) => [k.id, k.name]));

  let page: { data: UsageRecordRow[]; next_cursor: string | null } = { data: [], next_cursor: null };
  let loadError: string | null = null;
  try {
    page = await listUsageRecords(db, ctx.org.id, filter, PAGE_SIZE);
  } catch (err) {
    if (!isAppError(err)) throw err;
    loadError = err.message;
  }

  const base = `/${ctx.org.slug}/usage`;
  const filters = { ...values, cursor: undefined };
  const filtered = Boolean(values.user || values.model || values.key || values.status || values.from || values.to);

  return (
    <>
      <PageHeader
        title="Usage"
        description={`Every metered LLM request of ${ctx.org.name}, newest first: who made it, with which key and model, its tokens and what it cost. Open one for its receipt.`}
      />
      <div className="space-y-6">
        <UsageFilters
          action={base}
          values={values}
          errors={errors}
          filtered={filtered}
          models={models}
          users={members.map((m) => ({ value: m.membershipId, label: memberNames.get(m.membershipId) ?? m.membershipId }))}
          keys={keys.map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` }))}
        />
        {Object.keys(errors).length > 0 ? <Alert tone="warning">The filters marked above are not valid and were left out.</Alert> : null}
        <CreditStats
          label={filtered ? 'Totals of the filtered requests' : 'Totals of all requests'}
          stats={[
            { label: 'Requests', value: summary.requests.toLocaleString('en-US') },
            { label: 'Input tokens', value: summary.inputTokens.toLocaleString('en-US') },
            { label: 'Output tokens', value: summary.outputTokens.toLocaleString('en-US') },
            { label: 'Cost (credits)', value: showCredits(summary.cost) },
          ]}
        />
        {loadError ? <Alert tone="error">{loadError}</Alert> : null}

        <Table caption="Usage records">
          <thead>
            <tr>
              <Th>Time</Th>
              <Th>User</Th>
              <Th>Model</Th>
              <Th>API key</Th>
              <Th>Status</Th>
              <Th className="text-right">Input</Th>
              <Th className="text-right">Output</Th>
              <Th className="text-right">Cost (credits)</Th>
              <Th className="text-right">Latency</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100">
            {page.data.length === 0 ? (
              <tr>
                <Td className="text-zinc-500">
                  {filtered ? 'No request matches these filters.' : 'No usage recorded yet: requests appear here once your LLM backend meters them.'}
                </Td>
              </tr>
            ) : (
              page.data.map((r) => (
                <tr key={r.id}>
                  <Td className="whitespace-nowrap">
                    <Link href={`${base}/${r.id}`} className="text-accent-700 underline-offset-2 hover:underline">
                      {formatDateTime(r.occurredAt)}
                    </Link>
                  </Td>
                  <Td>{r.membershipId ? (memberNames.get(r.membershipId) ?? 'Former member') : '—'}</Td>
                  <Td className="font-mono text-xs">{r.model ?? '—'}</Td>
                  <Td>{r.apiKeyId ? (keyNames.get(r.apiKeyId) ?? 'Deleted key') : '—'}</Td>
                  <Td>
                    <Badge tone={statusTone[r.status]}>{r.status}</Badge>
                  </Td>
                  <Td className="text-right tabular-nums">{r.inputTokens.toLocaleString('en-US')}</Td>
                  <Td className="text-right tabular-nums">{r.outputTokens.toLocaleString('en-US')}</Td>
                  <Td className="text-right tabular-nums">{showCredits(r.cost)}</Td>
                  <Td className="text-right tabular-nums">{r.latencyMs === null ? '—' : `${r.latencyMs} ms`}</Td>
                </tr>
              ))
            )}
          </tbody>
        </Table>

        {values.cursor || page.next_cursor ? (
          <nav aria-label="Pages" className="flex justify-between gap-2">
            {values.cursor ? (
              <Link href={`${base}${usageQuery(filters)}`} className={buttonClass('secondary')}>
                Newest
              </Link>
            ) : (
              <span />
            )}
            {page.next_cursor ? (
              <Link href={`${base}${usageQuery({ ...filters, cursor: page.next_cursor })}`} className={buttonClass('secondary')}>
                Older
              </Link>
            ) : null}
          </nav>
        ) : null}
      </div>
    </>
  );
}
