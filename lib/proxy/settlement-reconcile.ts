/**
 * Committing the settlements a proxy process journaled and may not have committed (settlement-journal.ts):
 * each line is settled again through the meter with its usage and, when the answer named one, its quoted
 * charge. A settlement already committed returns its first result (a commit with the same body is idempotent
 * per reservation), so every line can be replayed safely. A refusal (the hold expired or was released) is
 * reported, not retried; any other failure leaves the file for the next run.
 *
 * The files of processes that are no longer running are removed once all their lines are settled or
 * refused; the file of a running process is never removed (it empties itself).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isAppError } from '../http/errors.ts';
import type { ProxyMeter } from './meter.ts';
import type { PendingSettlement } from './settlement-journal.ts';

export type SettlementReport = {
  settled: number;
  refused: { reservationId: string; reason: string }[];
  failed: { reservationId: string; reason: string }[];
  unreadable: number;
};

function parseSettlements(text: string): { entries: PendingSettlement[]; unreadable: number } {
  const entries: PendingSettlement[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as PendingSettlement;
      if (typeof e.orgId === 'string' && typeof e.reservationId === 'string' && e.usage && typeof e.usage.model === 'string') entries.push(e);
      else unreadable += 1;
    } catch {
      unreadable += 1;
    }
  }
  return { entries, unreadable };
}

export async function reconcileSettlements(meter: ProxyMeter, text: string): Promise<SettlementReport> {
  const { entries, unreadable } = parseSettlements(text);
  const report: SettlementReport = { settled: 0, refused: [], failed: [], unreadable };
  for (const e of entries) {
    const info = { apiKeyId: e.apiKeyId, requestId: e.requestId, endpoint: e.endpoint };
    const quote = e.quote && /^\d+$/.test(e.quote.charged) ? { charged: BigInt(e.quote.charged), terms: e.quote.terms } : undefined;
    try {
      await meter.settle(e.orgId, e.reservationId, e.usage, info, quote);
      report.settled += 1;
    } catch (err) {
      const reason = isAppError(err) ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);
      (isAppError(err) ? report.refused : report.failed).push({ reservationId: e.reservationId, reason });
    }
  }
  return report;
}

/** Whether the process that wrote `file` (named `<pid>-<start ms>.jsonl`) is still running on this host. */
function writerRunning(file: string): boolean {
  const pid = Number(path.basename(file).split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reconciles every journal file in `dir` (only those of processes no longer running with `onlyStopped`),
 * removing the files of stopped processes that nothing is left to settle in.
 */
export async function reconcileSettlementDir(meter: ProxyMeter, dir: string, options: { onlyStopped?: boolean } = {}): Promise<SettlementReport> {
  const total: SettlementReport = { settled: 0, refused: [], failed: [], unreadable: 0 };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return total;
    throw err;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const running = writerRunning(file);
    if (running && options.onlyStopped) continue;
    const report = await reconcileSettlements(meter, readFileSync(file, 'utf8'));
    total.settled += report.settled;
    total.refused.push(...report.refused);
    total.failed.push(...report.failed);
    total.unreadable += report.unreadable;
    if (!running && report.failed.length === 0) rmSync(file, { force: true });
  }
  return total;
}

export function describeSettlementReport(r: SettlementReport): string {
  return [
    `settlements: committed or already committed ${r.settled}, refused ${r.refused.length}, failed ${r.failed.length}, unreadable lines ${r.unreadable}`,
    ...r.refused.map((x) => `refused ${x.reservationId}: ${x.reason}`),
    ...r.failed.map((x) => `failed ${x.reservationId}: ${x.reason} (run again)`),
  ].join('\n');
}
