/**
 * Reading usage records for the usage log: a filtered page, newest first, and one request with its receipt
 * (the ledger entries and lots of its charge) and the price versions it was priced by. Every query is scoped
 * to the org; another org's record is not found.
 */
import type { Db } from '../db/client.ts';
import type { Prisma, UsageStatus } from '../generated/prisma/client.ts';
import { AppError } from '../http/errors.ts';
import { entriesOf } from '../ledger/entries.ts';

export type UsageFilter = {
  membershipId?: string;
  model?: string;
  apiKeyId?: string;
  status?: UsageStatus;
  from?: Date;
  to?: Date;
  cursor?: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(date.getTime())) {
    throw new AppError('validation_failed', 'The page link is not valid', { field: 'cursor' });
  }
  return { at: date, id };
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

export const usageRecordSelect = {
  id: true,
  membershipId: true,
  apiKeyId: true,
  model: true,
  provider: true,
  inputTokens: true,
  outputTokens: true,
  cachedInputTokens: true,
  cacheWriteTokens: true,
  reasoningTokens: true,
  cost: true,
  priceVersionId: true,
  orgPriceVersionId: true,
  latencyMs: true,
  status: true,
  requestId: true,
  metadata: true,
  occurredAt: true,
  transactionId: true,
  reservationId: true,
  usageEventId: true,
} as const satisfies Prisma.UsageRecordSelect;

export type UsageRecordRow = Prisma.UsageRecordGetPayload<{ select: typeof usageRecordSelect }>;

/** A page of the org's usage records, newest first; `next_cursor` continues it. */
export async function listUsageRecords(
  db: Db,
  orgId: string,
  filter: UsageFilter,
  limit = 50,
): Promise<{ data: UsageRecordRow[]; next_cursor: string | null }> {
  const where: Prisma.UsageRecordWhereInput = { orgId };
  if (filter.membershipId) where.membershipId = filter.membershipId;
  if (filter.model) where.model = filter.model;
  if (filter.apiKeyId) where.apiKeyId = filter.apiKeyId;
  if (filter.status) where.status = filter.status;
  if (filter.from || filter.to) where.occurredAt = { ...(filter.from && { gte: filter.from }), ...(filter.to && { lt: filter.to }) };
  if (filter.cursor) {
    const c = decodeCursor(filter.cursor);
    where.AND = [{ OR: [{ occurredAt: { lt: c.at } }, { occurredAt: c.at, id: { lt: c.id } }] }];
  }
  const rows = await db.usageRecord.findMany({
    where,
    select: usageRecordSelect,
    orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page, next_cursor: rows.length > limit && last ? encodeCursor(last.occurredAt, last.id) : null };
}

export type UsageSummary = { requests: bigint; inputTokens: bigint; outputTokens: bigint; cost: bigint };

/**
 * Totals of the records a filter selects, read from the hourly rollups (whose key holds every filter, and
 * whose hours the whole-day ranges of the usage log cover exactly) instead of the records themselves.
 */
export async function summarizeUsage(db: Db, orgId: string, filter: Omit<UsageFilter, 'cursor'>): Promise<UsageSummary> {
  const where: Prisma.UsageRollupHourlyWhereInput = { orgId };
  if (filter.membershipId) where.membershipId = filter.membershipId;
  if (filter.model) where.model = filter.model;
  if (filter.apiKeyId) where.apiKeyId = filter.apiKeyId;
  if (filter.status) where.status = filter.status;
  if (filter.from || filter.to) where.hour = { ...(filter.from && { gte: filter.from }), ...(filter.to && { lt: filter.to }) };
  const sums = await db.usageRollupHourly.aggregate({
    where,
    _sum: { requests: true, inputTokens: true, outputTokens: true, cost: true },
  });
  return {
    requests: sums._sum.requests ?? 0n,
    inputTokens: sums._sum.inputTokens ?? 0n,
    outputTokens: sums._sum.outputTokens ?? 0n,
    cost: sums._sum.cost ?? 0n,
  };
}

/** The models the org's records name, for filters. */
export async function listUsedModels(db: Db, orgId: string): Promise<string[]> {
  const rows = await db.usageRollupHourly.findMany({
    where: { orgId, model: { not: '' } },
    distinct: ['model'],
    select: { model: true },
    orderBy: { model: 'asc' },
    take: 500,
  });
  return rows.map((r) => r.model);
}

export type ReceiptLine = {
  account: string;
  amount: bigint;
  lot: { id: string; source: string; expiresAt: Date | null } | null;
};

export type UsageRecordDetail = UsageRecordRow & {
  receipt: ReceiptLine[];
  priceVersion: { id: string; orgId: string | null; effectiveAt: Date; note: string | null; catalogKey: string | null } | null;
  orgPriceVersion: { id: string; effectiveAt: Date; note: string | null } | null;
};

/** One record with the ledger entries of its charge and its price versions; not_found outside the org. */
export async function getUsageRecord(db: Db, orgId: string, id: string): Promise<UsageRecordDetail> {
  if (!UUID.test(id)) throw new AppError('not_found', 'Usage record not found');
  const record = await db.usageRecord.findFirst({ where: { id, orgId }, select: usageRecordSelect });
  if (!record) throw new AppError('not_found', 'Usage record not found');
  const versionSelect = { id: true, orgId: true, effectiveAt: true, note: true, catalogKey: true } as const;
  const [entries, priceVersion, orgPriceVersion] = await Promise.all([
    record.transactionId ? entriesOf(db, orgId, [record.transactionId]) : Promise.resolve([]),
    record.priceVersionId ? db.priceVersion.findFirst({ where: { id: record.priceVersionId, OR: [{ orgId }, { orgId: null }] }, select: versionSelect }) : null,
    record.orgPriceVersionId
      ? db.priceVersion.findFirst({ where: { id: record.orgPriceVersionId, orgId }, select: { id: true, effectiveAt: true, note: true } })
      : null,
  ]);
  return {
    ...record,
    receipt: entries.map((e) => ({ account: e.account.kind, amount: e.amount, lot: e.lot })),
    priceVersion,
    orgPriceVersion,
  };
}
