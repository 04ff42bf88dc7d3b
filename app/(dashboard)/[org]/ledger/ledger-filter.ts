/**
 * The journal's filters as they travel in a URL (`user`, `kind`, `from`, `to` as UTC dates, `cursor`), shared
 * by the Ledger page and its CSV export so both show the same transactions.
 */
import { isTransactionKind, transactionKinds, type TransactionKind } from '@/components/ledger/transaction-kinds';
import type { TransactionFilter } from '@/lib/ledger/queries';

export type LedgerFilterValues = { user?: string; kind?: TransactionKind; from?: string; to?: string; cursor?: string };

export type ParsedLedgerFilter = {
  /** The valid filters, to build links with. */
  values: LedgerFilterValues;
  /** What was asked for, valid or not, to show in the form again. */
  raw: Partial<Record<keyof LedgerFilterValues, string>>;
  filter: Omit<TransactionFilter, 'limit'>;
  /** What is wrong with the filters, by field; the filter leaves those fields out. */
  errors: Partial<Record<keyof LedgerFilterValues, string>>;
};

type Params = URLSearchParams | Record<string, string | string[] | undefined>;

function read(params: Params, key: string): string | undefined {
  const raw = params instanceof URLSearchParams ? params.get(key) : params[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A `YYYY-MM-DD` day as the UTC midnight it starts at, or null when it is no real date. */
function utcDay(value: string): Date | null {
  if (!DATE.test(value)) return null;
  const date = new Date(`${value}T00:00:00.000Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? null : date;
}

export function parseLedgerFilter(params: Params): ParsedLedgerFilter {
  const values: LedgerFilterValues = {};
  const filter: ParsedLedgerFilter['filter'] = {};
  const errors: ParsedLedgerFilter['errors'] = {};
  const raw: ParsedLedgerFilter['raw'] = {};
  for (const key of ['user', 'kind', 'from', 'to', 'cursor'] as const) {
    const value = read(params, key);
    if (value !== undefined) raw[key] = value;
  }

  const user = read(params, 'user');
  if (user) {
    if (user.length > 200) errors.user = 'User is too long';
    else values.user = filter.user = user;
  }
  const kind = read(params, 'kind');
  if (kind) {
    if (isTransactionKind(kind)) values.kind = filter.kind = kind;
    else errors.kind = `Kind must be one of ${transactionKinds.join(', ')}`;
  }
  const from = read(params, 'from');
  if (from) {
    const day = utcDay(from);
    if (day) {
      values.from = from;
      filter.from = day;
    } else errors.from = 'From must be a date like 2025-01-31';
  }
  const to = read(params, 'to');
  if (to) {
    const day = utcDay(to);
    if (day) {
      values.to = to;
      // The whole of the last day is included.
      filter.to = new Date(day.getTime() + DAY_MS);
    } else errors.to = 'To must be a date like 2025-01-31';
  }
  if (filter.from && filter.to && filter.from >= filter.to) {
    errors.to = 'To must not be before From';
    delete filter.to;
    delete values.to;
  }
  const cursor = read(params, 'cursor');
  if (cursor) {
    if (/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) values.cursor = filter.cursor = cursor;
    else errors.cursor = 'The page link is not valid';
  }
  return { values, raw, filter, errors };
}

/** The query string of these filters (empty ones left out), with `?` when there is any. */
export function ledgerQuery(values: LedgerFilterValues): string {
  const query = new URLSearchParams();
  for (const key of ['user', 'kind', 'from', 'to', 'cursor'] as const) {
    const value = values[key];
    if (value) query.set(key, value);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}
