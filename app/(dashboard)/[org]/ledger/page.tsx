import type { Metadata } from 'next';
import Link from 'next/link';
import { transactionKindLabels, transactionKinds } from '@/components/ledger/transaction-kinds';
import { TransactionList } from '@/components/ledger/transaction-list';
import { journalTransactionView, memberTransactionView } from '@/components/ledger/transaction-view';
import { Alert } from '@/components/ui/alert';
import { Button, buttonClass } from '@/components/ui/button';
import { SelectField, TextField } from '@/components/ui/field';
import { PageHeader } from '@/components/ui/page-header';
import { requireOrgRole } from '@/lib/auth/authorize';
import { db } from '@/lib/db/client';
import { isAppError } from '@/lib/http/errors';
import { getLedgerContext } from '@/lib/ledger/context';
import { listTransactions, type TransactionDto } from '@/lib/ledger/queries';
import { listMembers } from '@/lib/orgs/orgs';
import { ledgerQuery, parseLedgerFilter } from './ledger-filter';

export const metadata: Metadata = { title: 'Ledger' };

const PAGE_SIZE = 50;

type LedgerPageProps = {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export default async function LedgerPage({ params, searchParams }: LedgerPageProps) {
  const { org: slug } = await params;
  const ctx = await requireOrgRole(slug, 'pool:view');
  const { values, raw, filter, errors } = parseLedgerFilter(await searchParams);
  const members = await listMembers(db, ctx.org.id);
  const names = new Map(members.map((m) => [m.userId, m.name || m.email || 'Unnamed member']));

  let page: { data: TransactionDto[]; next_cursor: string | null } = { data: [], next_cursor: null };
  let loadError: string | null = null;
  try {
    page = await listTransactions(getLedgerContext(), ctx.org.id, { ...filter, limit: PAGE_SIZE });
  } catch (err) {
    // A filter naming nobody in this org, or a page link that no longer fits, is the user's to fix.
    if (!isAppError(err)) throw err;
    loadError = err.message;
  }

  const base = `/${ctx.org.slug}/ledger`;
  const filters = { ...values, cursor: undefined };
  const exportHref = `/api/orgs/${encodeURIComponent(ctx.org.slug)}/ledger.csv${ledgerQuery(filters)}`;
  const filtered = Boolean(values.user || values.kind || values.from || values.to);
  const view = (t: TransactionDto) => (values.user ? memberTransactionView(t, names) : journalTransactionView(t, names));
  const userOptions = [
    { value: '', label: 'Everyone' },
    ...members.map((m) => ({ value: m.userId, label: m.name && m.email ? `${m.name} (${m.email})` : m.name || m.email || m.externalId || m.userId })),
  ];
  // A user id from a link that is not in the list (a former member) still shows as selected.
  if (values.user && !userOptions.some((o) => o.value === values.user)) userOptions.push({ value: values.user, label: values.user });

  return (
    <>
      <PageHeader
        title="Ledger"
        description="Every movement of credits in the org, newest first. Each transaction's entries sum to zero; open one to see them."
        actions={
          <a href={exportHref} download className={buttonClass('secondary')}>
            Download CSV
          </a>
        }
      />
      <div className="space-y-6">
        <form method="get" action={base} className="grid gap-4 rounded-lg border border-zinc-200 bg-white p-4 shadow-sm sm:grid-cols-2 lg:grid-cols-[minmax(0,1.5fr)_minmax(0,1fr)_minmax(0,1fr)_minmax(0,1fr)_auto] lg:items-start">
          <SelectField label="User" name="user" defaultValue={values.user ?? ''} options={userOptions} errors={errors.user} />
          <SelectField
            label="Kind"
            name="kind"
            defaultValue={values.kind ?? ''}
            errors={errors.kind}
            options={[{ value: '', label: 'All kinds' }, ...transactionKinds.map((k) => ({ value: k, label: transactionKindLabels[k] }))]}
          />
          <TextField label="From (UTC)" name="from" type="date" defaultValue={raw.from} errors={errors.from} />
          <TextField label="To (UTC)" name="to" type="date" defaultValue={raw.to} errors={errors.to} />
          <div className="flex gap-2 lg:pt-7">
            <Button type="submit">Filter</Button>
            {filtered ? (
              <Link href={base} className={buttonClass('ghost')}>
                Clear
              </Link>
            ) : null}
          </div>
        </form>

        {Object.keys(errors).length > 0 ? (
          <Alert tone="warning">
            {errors.cursor ? `${errors.cursor}: showing the newest transactions. ` : ''}
            {Object.keys(errors).some((k) => k !== 'cursor') ? 'The filters marked above are not valid and were left out.' : ''}
          </Alert>
        ) : null}
        {loadError ? <Alert tone="error">{loadError}</Alert> : null}

        <TransactionList
          label="Transactions"
          transactions={page.data.map(view)}
          empty={filtered ? 'No transaction matches these filters.' : 'The ledger is empty: no credits have been granted, bought or moved yet.'}
        />

        {values.cursor || page.next_cursor ? (
          <nav aria-label="Pages" className="flex justify-between gap-2">
            {values.cursor ? (
              <Link href={`${base}${ledgerQuery(filters)}`} className={buttonClass('secondary')}>
                Newest
              </Link>
            ) : (
              <span />
            )}
            {page.next_cursor ? (
              <Link href={`${base}${ledgerQuery({ ...filters, cursor: page.next_cursor })}`} className={buttonClass('secondary')}>
                Older
              </Link>
            ) : null}
          </nav>
        ) : null}
      </div>
    </>
  );
}
