import type { ReactNode } from 'react';
import { Badge, type BadgeTone } from '@/components/ui/badge';
import { formatDateTime } from '@/components/ui/format';
import { Table, Td, Th } from '@/components/ui/table';
import { isPositive, showCredits, showSignedCredits } from './credits';
import type { EntryView, ReceiptLineView, TransactionView } from './transaction-view';

const kindTones: Record<string, BadgeTone> = {
  grant: 'success',
  purchase: 'success',
  refund: 'success',
  charge: 'accent',
  expiry: 'danger',
  debt_settlement: 'warning',
};

function Amount({ t }: { t: TransactionView }) {
  if (!t.signed) return <span className="tabular-nums">{showCredits(t.amount)}</span>;
  return (
    <span className={`tabular-nums ${isPositive(t.amount) ? 'text-emerald-700' : 'text-zinc-900'}`}>
      {showSignedCredits(t.amount)}
    </span>
  );
}

function EntriesTable({ entries }: { entries: EntryView[] }) {
  return (
    <Table caption="Entries">
      <thead>
        <tr>
          <Th>Account</Th>
          <Th className="text-right">Amount</Th>
          <Th>Lot</Th>
          <Th>Lot expires</Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {entries.map((e, i) => (
          <tr key={i}>
            <Td>{e.account}</Td>
            <Td className="text-right tabular-nums">{showSignedCredits(e.amount)}</Td>
            <Td>{e.lot ? e.lot.source : '—'}</Td>
            <Td className="whitespace-nowrap">{e.lot ? (e.lot.expiresAt ? formatDateTime(e.lot.expiresAt) : 'Never') : '—'}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function ReceiptTable({ lines }: { lines: ReceiptLineView[] }) {
  return (
    <Table caption="Receipt: credits that paid this charge">
      <thead>
        <tr>
          <Th>Paid from</Th>
          <Th className="text-right">Amount</Th>
          <Th>Expiry of those credits</Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {lines.map((line, i) => (
          <tr key={i}>
            <Td>
              {line.overdraft ? <Badge tone="warning">Overdraft</Badge> : line.source}
            </Td>
            <Td className="text-right tabular-nums">{showCredits(line.amount)}</Td>
            <Td className="whitespace-nowrap">{line.overdraft ? '—' : line.expiresAt ? formatDateTime(line.expiresAt) : 'Never'}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/**
 * Recorded more than a minute after it happened (a backfilled or imported charge). The journal lists by when
 * it was recorded; when it happened is then told apart.
 */
function recordedLater(t: TransactionView): boolean {
  return Date.parse(t.createdAt) - Date.parse(t.occurredAt) > 60_000;
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-zinc-500">{label}</dt>
      <dd className="mt-0.5 break-words text-sm text-zinc-800">{children}</dd>
    </div>
  );
}

/**
 * Transactions, newest first. Each one opens (a native disclosure, so it works without JavaScript and with
 * the keyboard) to its entries and, for a charge, its receipt.
 */
export function TransactionList({ label, transactions, empty }: { label: string; transactions: TransactionView[]; empty: ReactNode }) {
  if (transactions.length === 0) {
    return <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-6 text-sm text-zinc-600">{empty}</p>;
  }
  return (
    <ul aria-label={label} className="divide-y divide-zinc-100 rounded-lg border border-zinc-200 bg-white shadow-sm">
      {transactions.map((t) => (
        <li key={t.id}>
          <details className="group">
            <summary className="flex cursor-pointer list-none flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3 hover:bg-zinc-50 [&::-webkit-details-marker]:hidden">
              <svg
                aria-hidden="true"
                viewBox="0 0 20 20"
                fill="currentColor"
                className="size-4 shrink-0 text-zinc-400 transition-transform group-open:rotate-90"
              >
                <path d="M7.2 5.2a1 1 0 0 1 1.4 0l4.1 4.1a1 1 0 0 1 0 1.4l-4.1 4.1a1 1 0 1 1-1.4-1.4L10.6 10 7.2 6.6a1 1 0 0 1 0-1.4Z" />
              </svg>
              <time dateTime={t.createdAt} className="whitespace-nowrap text-sm text-zinc-600">
                {formatDateTime(t.createdAt)}
              </time>
              <Badge tone={kindTones[t.kind] ?? 'neutral'}>{t.kindLabel}</Badge>
              <span className="min-w-0 flex-1 break-words text-sm text-zinc-800">
                {t.flow ? <span className="font-medium">{t.flow}</span> : null}
                {t.flow && (t.memo || t.call) ? <span className="text-zinc-400"> · </span> : null}
                {(t.memo ?? t.call) ? <span>{t.memo ?? t.call}</span> : null}
              </span>
              <span className="text-sm font-semibold">
                <Amount t={t} />
              </span>
            </summary>
            <div className="space-y-4 border-t border-zinc-100 bg-zinc-50 px-4 py-4">
              <dl className="grid gap-3 sm:grid-cols-3">
                <Detail label="Transaction">
                  <code className="font-mono text-xs">{t.id}</code>
                </Detail>
                {t.actor ? <Detail label="Made by">{t.actor}</Detail> : null}
                {t.memo ? <Detail label="Memo">{t.memo}</Detail> : null}
                {t.call ? <Detail label="Request">{t.call}</Detail> : null}
                {recordedLater(t) ? <Detail label="Happened">{formatDateTime(t.occurredAt)}</Detail> : null}
              </dl>
              {t.entries && t.entries.length > 0 ? (
                <section className="space-y-2">
                  <h3 className="text-sm font-semibold text-zinc-900">Entries</h3>
                  <EntriesTable entries={t.entries} />
                </section>
              ) : null}
              {t.receipt && t.receipt.length > 0 ? (
                <section className="space-y-2">
                  <h3 className="text-sm font-semibold text-zinc-900">Receipt</h3>
                  <ReceiptTable lines={t.receipt} />
                </section>
              ) : null}
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}
