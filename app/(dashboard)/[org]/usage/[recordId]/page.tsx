import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { showCredits, showSignedCredits } from '@/components/ledger/credits';
import { Badge } from '@/components/ui/badge';
import { buttonClass } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { formatDateTime } from '@/components/ui/format';
import { PageHeader } from '@/components/ui/page-header';
import { Table, Td, Th } from '@/components/ui/table';
import { requireOrgRole } from '@/lib/auth/authorize';
import { db } from '@/lib/db/client';
import { isAppError } from '@/lib/http/errors';
import { getUsageRecord, type UsageRecordDetail } from '@/lib/usage/queries';
import { statusTone } from '../usage-filter';

export const metadata: Metadata = { title: 'Usage record' };

type Props = { params: Promise<{ org: string; recordId: string }> };

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 py-2 text-sm">
      <dt className="text-zinc-500">{label}</dt>
      <dd className="col-span-2 text-zinc-900">{children}</dd>
    </div>
  );
}

export default async function UsageRecordPage({ params }: Props) {
  const { org: slug, recordId } = await params;
  const ctx = await requireOrgRole(slug, 'usage:view');
  let record: UsageRecordDetail;
  try {
    record = await getUsageRecord(db, ctx.org.id, recordId);
  } catch (err) {
    if (isAppError(err) && err.code === 'not_found') notFound();
    throw err;
  }
  const [member, key] = await Promise.all([
    record.membershipId
      ? db.membership.findFirst({ where: { id: record.membershipId, orgId: ctx.org.id }, select: { externalId: true, user: { select: { name: true, email: true } } } })
      : null,
    record.apiKeyId ? db.apiKey.findFirst({ where: { id: record.apiKeyId, orgId: ctx.org.id }, select: { name: true, prefix: true } }) : null,
  ]);
  const tokens = (n: bigint) => n.toLocaleString('en-US');
  const metadataText = JSON.stringify(record.metadata, null, 2);

  return (
    <>
      <PageHeader
        title={record.model ?? 'Metered request'}
        description={`Request of ${formatDateTime(record.occurredAt)}: its tokens, cost, price version and the ledger entries that paid for it.`}
        actions={
          <Link href={`/${ctx.org.slug}/usage`} className={buttonClass('secondary')}>
            Back to usage
          </Link>
        }
      />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Request">
          <dl className="divide-y divide-zinc-100">
            <Row label="Status"><Badge tone={statusTone[record.status]}>{record.status}</Badge></Row>
            <Row label="User">{member ? member.user.name || member.user.email || member.externalId : '—'}</Row>
            <Row label="API key">{key ? `${key.name} (${key.prefix}…)` : '—'}</Row>
            <Row label="Model">{record.model ?? '—'}{record.provider ? ` (${record.provider})` : ''}</Row>
            <Row label="Request id"><span className="font-mono text-xs">{record.requestId ?? '—'}</span></Row>
            <Row label="Latency">{record.latencyMs === null ? '—' : `${record.latencyMs} ms`}</Row>
            <Row label="Reservation"><span className="font-mono text-xs">{record.reservationId ?? '—'}</span></Row>
            <Row label="Usage event"><span className="font-mono text-xs">{record.usageEventId ?? '—'}</span></Row>
          </dl>
        </Card>
        <Card title="Tokens and cost">
          <dl className="divide-y divide-zinc-100">
            <Row label="Input">{tokens(record.inputTokens)} (cached {tokens(record.cachedInputTokens)}, cache write {tokens(record.cacheWriteTokens)})</Row>
            <Row label="Output">{tokens(record.outputTokens)} (reasoning {tokens(record.reasoningTokens)})</Row>
            <Row label="Cost">{showCredits(record.cost)} credits</Row>
            <Row label="Price version">
              {record.priceVersion
                ? `${record.priceVersion.orgId ? 'Org prices' : (record.priceVersion.catalogKey ?? 'Catalog')}, effective ${formatDateTime(record.priceVersion.effectiveAt)}`
                : 'None (charged by amount)'}
            </Row>
            <Row label="Org settings">
              {record.orgPriceVersion ? `Version of ${formatDateTime(record.orgPriceVersion.effectiveAt)}${record.orgPriceVersion.note ? `: ${record.orgPriceVersion.note}` : ''}` : 'Defaults'}
            </Row>
          </dl>
        </Card>
      </div>
      <div className="mt-6 space-y-6">
        <Table caption="Receipt: the ledger entries of this charge">
          <thead>
            <tr>
              <Th>Account</Th>
              <Th>Lot</Th>
              <Th>Lot expiry</Th>
              <Th className="text-right">Amount (credits)</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100">
            {record.receipt.length === 0 ? (
              <tr>
                <Td className="text-zinc-500">Nothing was charged for this request.</Td>
              </tr>
            ) : (
              record.receipt.map((line, i) => (
                <tr key={i}>
                  <Td>{line.account}</Td>
                  <Td>{line.lot ? `${line.lot.source} · ${line.lot.id.slice(0, 8)}` : line.account === 'consumption' ? '—' : 'overdraft'}</Td>
                  <Td>{line.lot?.expiresAt ? formatDateTime(line.lot.expiresAt) : '—'}</Td>
                  <Td className="text-right tabular-nums">{showSignedCredits(line.amount)}</Td>
                </tr>
              ))
            )}
          </tbody>
        </Table>
        {metadataText !== '{}' ? (
          <Card title="Metadata">
            <pre className="overflow-x-auto text-xs text-zinc-800">{metadataText}</pre>
          </Card>
        ) : null}
      </div>
    </>
  );
}
