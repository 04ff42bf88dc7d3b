/**
 * Charging the requests forwarded unmetered while the credit database was unreachable (degradation.ts): each
 * journal line becomes a usage event of its org, with `proxy:<request id>` as the event id, so the ledger
 * charges it once however often the journal is reconciled. Lines without a price (the meter could not price
 * them) or that do not parse are reported, not charged.
 */
import type { LedgerContext } from '../ledger/context.ts';
import { MAX_BATCH_EVENTS, recordUsageBatch } from '../ledger/metering.ts';
import type { UnmeteredEntry } from './degradation.ts';

export type ReconcileReport = { charged: number; duplicates: number; rejected: { requestId: string; reason: string }[]; unpriced: string[]; unreadable: number };

export function parseJournal(text: string): { entries: UnmeteredEntry[]; unreadable: number } {
  const entries: UnmeteredEntry[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as UnmeteredEntry;
      if (typeof entry.orgId === 'string' && typeof entry.requestId === 'string' && typeof entry.user === 'string') entries.push(entry);
      else unreadable += 1;
    } catch {
      unreadable += 1;
    }
  }
  return { entries, unreadable };
}

export async function reconcileUnmetered(ctx: LedgerContext, text: string): Promise<ReconcileReport> {
  const { entries, unreadable } = parseJournal(text);
  const report: ReconcileReport = { charged: 0, duplicates: 0, rejected: [], unpriced: [], unreadable };
  const byOrg = new Map<string, UnmeteredEntry[]>();
  for (const entry of entries) {
    if (entry.price === null || !/^\d+$/.test(entry.price)) {
      report.unpriced.push(entry.requestId);
      continue;
    }
    byOrg.set(entry.orgId, [...(byOrg.get(entry.orgId) ?? []), entry]);
  }
  for (const [orgId, orgEntries] of byOrg) {
    for (let i = 0; i < orgEntries.length; i += MAX_BATCH_EVENTS) {
      const batch = orgEntries.slice(i, i + MAX_BATCH_EVENTS);
      const results = await recordUsageBatch(
        ctx,
        orgId,
        batch.map((e) => ({
          id: `proxy:${e.requestId}`,
          user: e.user,
          amount: BigInt(e.price as string),
          timestamp: e.at,
          metadata: { unmetered: true, endpoint: e.endpoint, ...(e.usage ?? {}) },
        })),
        { type: 'system' },
      );
      results.forEach((r, k) => {
        if (r.status === 'charged') report.charged += 1;
        else if (r.status === 'duplicate') report.duplicates += 1;
        else if (r.status === 'rejected') report.rejected.push({ requestId: batch[k].requestId, reason: `${r.error.code}: ${r.error.message}` });
      });
    }
  }
  return report;
}

export function describeReport(r: ReconcileReport): string {
  return [
    `charged ${r.charged}, already charged ${r.duplicates}, rejected ${r.rejected.length}, unpriced ${r.unpriced.length}, unreadable lines ${r.unreadable}`,
    ...r.rejected.map((x) => `rejected ${x.requestId}: ${x.reason}`),
    ...r.unpriced.map((id) => `unpriced ${id}: charge it by hand`),
  ].join('\n');
}

