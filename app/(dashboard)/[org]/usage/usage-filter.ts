/**
 * The usage log's filters as they travel in a URL: `user` (membership id), `model`, `key` (API key id),
 * `status`, `from` and `to` as UTC dates (both days included), `cursor`. Invalid filters are reported by
 * field and left out.
 */
import type { UsageFilter } from '@/lib/usage/queries';

export const usageStatuses = ['ok', 'error', 'cancelled'] as const;

/** How each status shows as a badge. */
export const statusTone = { ok: 'success', error: 'danger', cancelled: 'warning' } as const;
const KEYS = ['user', 'model', 'key', 'status', 'from', 'to', 'cursor'] as const;
type Key = (typeof KEYS)[number];

export type UsageFilterValues = Partial<Record<Key, string>>;

type Params = URLSearchParams | Record<string, string | string[] | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function read(params: Params, key: string): string | undefined {
  const raw = params instanceof URLSearchParams ? params.get(key) : params[key];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : undefined;
}

function utcDay(value: string): Date | null {
  if (!DATE.test(value)) return null;
  const date = new Date(`${value}T00:00:00.000Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? null : date;
}

export function parseUsageFilter(params: Params): {
  values: UsageFilterValues;
  filter: UsageFilter;
  errors: UsageFilterValues;
} {
  const values: UsageFilterValues = {};
  const filter: UsageFilter = {};
  const errors: UsageFilterValues = {};
  const user = read(params, 'user');
  if (user) {
    if (UUID.test(user)) values.user = filter.membershipId = user;
    else errors.user = 'Choose a user from the list';
  }
  const model = read(params, 'model');
  if (model) {
    if (model.length <= 200) values.model = filter.model = model;
    else errors.model = 'Model is too long';
  }
  const key = read(params, 'key');
  if (key) {
    if (UUID.test(key)) values.key = filter.apiKeyId = key;
    else errors.key = 'Choose an API key from the list';
  }
  const status = read(params, 'status');
  if (status) {
    const known = usageStatuses.find((s) => s === status);
    if (known) values.status = filter.status = known;
    else errors.status = `Status must be one of ${usageStatuses.join(', ')}`;
  }
  for (const edge of ['from', 'to'] as const) {
    const value = read(params, edge);
    if (!value) continue;
    const day = utcDay(value);
    if (!day) {
      errors[edge] = `${edge === 'from' ? 'From' : 'To'} must be a date like 2025-01-31`;
      continue;
    }
    values[edge] = value;
    filter[edge] = edge === 'to' ? new Date(day.getTime() + DAY_MS) : day;
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
  return { values, filter, errors };
}

/** The query string of these filters (empty ones left out), with `?` when there is any. */
export function usageQuery(values: UsageFilterValues): string {
  const query = new URLSearchParams();
  for (const key of KEYS) if (values[key]) query.set(key, values[key] as string);
  const text = query.toString();
  return text ? `?${text}` : '';
}
