/**
 * Committing the settlements a proxy process journaled and may not have committed (settlement-journal.ts):
 * each line is settled again through the meter with its usage and, when the answer named one, its quoted
 * charge (a request answered from a lease is captured from that lease; from a lease that ended first, it is
 * charged as a usage event of the lease's member). A settlement already committed returns its first result (a
 * commit with the same body is idempotent per reservation, a capture per request), so every line can be
 * replayed safely. A refusal (a hold of its own expired or was released, the member cannot pay) is reported,
 * not retried; any other failure leaves the file for the next run. Once every settlement is replayed, the
 * leases the stopped processes held are released.
 *
 * The files of processes that are no longer running are removed once all their lines are settled or
 * refused; the files of a running process are never removed (they empty themselves).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isAppError } from '../http/errors.ts';
import type { ProxyMeter } from './meter.ts';
import type { HeldLease, JournalEntry, PendingSettlement } from './settlement-journal.ts';

export type SettlementReport = {
  settled: number;
  /** Leases of stopped processes released (or found gone already). */
  leasesReleased: number;
  refused: { reservationId: string; reason: string }[];
  failed: { reservationId: string; reason: string }[];
  unreadable: number;
};

const emptyReport = (): SettlementReport => ({ settled: 0, leasesReleased: 0, refused: [], failed: [], unreadable: 0 });

function parseEntries(text: string): { settlements: PendingSettlement[]; leases: HeldLease[]; unreadable: number } {
  const settlements: PendingSettlement[] = [];
  const leases: HeldLease[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if ('kind' in e && e.kind === 'lease' && typeof e.orgId === 'string' && typeof e.leaseId === 'string') leases.push(e);
      else if (!('kind' in e) && typeof e.orgId === 'string' && typeof e.reservationId === 'string' && e.usage && typeof e.usage.model === 'string') settlements.push(e);
      else unreadable += 1;
    } catch {
      unreadable += 1;
    }
  }
  return { settlements, leases, unreadable };
}

const reasonOf = (err: unknown) => (isAppError(err) ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err));

async function settleAll(meter: ProxyMeter, entries: PendingSettlement[], report: SettlementReport): Promise<void> {
  for (const e of entries) {
    const info = { apiKeyId: e.apiKeyId, requestId: e.requestId, endpoint: e.endpoint };
    const quote = e.quote && /^\d+$/.test(e.quote.charged) ? { charged: BigInt(e.quote.charged), terms: e.quote.terms } : undefined;
    try {
      if (e.leaseId) {
        if (!meter.settleLeased) throw new Error('this meter cannot charge requests answered from a lease');
        await meter.settleLeased(e.orgId, e.leaseId, e.reservationId, e.usage, info, quote);
      } else {
        await meter.settle(e.orgId, e.reservationId, e.usage, info, quote);
      }
      report.settled += 1;
    } catch (err) {
      (isAppError(err) ? report.refused : report.failed).push({ reservationId: e.reservationId, reason: reasonOf(err) });
    }
  }
}

async function releaseAll(meter: ProxyMeter, leases: HeldLease[], report: SettlementReport): Promise<void> {
  for (const lease of leases) {
    try {
      if (!meter.releaseLease) throw new Error('this meter cannot release leases');
      await meter.releaseLease(lease.orgId, lease.leaseId);
      report.leasesReleased += 1;
    } catch (err) {
      report.failed.push({ reservationId: lease.leaseId, reason: reasonOf(err) });
    }
  }
}

export async function reconcileSettlements(meter: ProxyMeter, text: string): Promise<SettlementReport> {
  const { settlements, leases, unreadable } = parseEntries(text);
  const report = { ...emptyReport(), unreadable };
  await settleAll(meter, settlements, report);
  if (report.failed.length === 0) await releaseAll(meter, leases, report);
  return report;
}

/** When process `pid` of this host started (ms since the epoch, to the second), or null when unknown. */
function processStartedAt(pid: number): number | null {
  try {
    // /proc/<pid>/stat: the 22nd field is the start in clock ticks (100 per second) after boot; the name
    // (2nd field) may hold spaces, so fields are counted after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

/**
 * Whether the process that wrote `file` (named `<pid>-<start ms>[-n].jsonl`) is still running on this host. A
 * process id is reused: a restarted container's server usually has the same one as before, so a process that
 * started after the file was created is not its writer.
 */
export function writerRunning(file: string): boolean {
  const [pid, created] = path.basename(file, '.jsonl').split('-').map(Number);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return created >= Math.floor(performance.timeOrigin);
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStartedAt(pid);
  // The start is known to the second (the boot time's precision): within it, the process counts as the writer.
  return started === null || started <= created + 1000;
}

/**
 * Reconciles every journal file in `dir` (only those of processes no longer running with `onlyStopped`): first
 * every settlement of every file (a lease's requests may be journaled in another file than the lease), then,
 * when none failed, the leases of stopped processes are released; the files of stopped processes are removed
 * once nothing is left to do in them.
 */
export async function reconcileSettlementDir(meter: ProxyMeter, dir: string, options: { onlyStopped?: boolean } = {}): Promise<SettlementReport> {
  const total = emptyReport();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return total;
    throw err;
  }
  const files = names
    .map((name) => ({ file: path.join(dir, name) }))
    .map(({ file }) => ({ file, running: writerRunning(file) }))
    .filter((f) => !(f.running && options.onlyStopped))
    .map((f) => ({ ...f, ...parseEntries(readFileSync(f.file, 'utf8')) }));
  for (const f of files) {
    total.unreadable += f.unreadable;
    await settleAll(meter, f.settlements, total);
  }
  if (total.failed.length > 0) return total;
  // Only the leases of stopped processes: a running one still answers from its own.
  await releaseAll(meter, files.filter((f) => !f.running).flatMap((f) => f.leases), total);
  if (total.failed.length > 0) return total;
  for (const f of files) if (!f.running) rmSync(f.file, { force: true });
  return total;
}

export function describeSettlementReport(r: SettlementReport): string {
  return [
    `settlements: committed or already committed ${r.settled}, refused ${r.refused.length}, failed ${r.failed.length}, unreadable lines ${r.unreadable}; leases released ${r.leasesReleased}`,
    ...r.refused.map((x) => `refused ${x.reservationId}: ${x.reason}`),
    ...r.failed.map((x) => `failed ${x.reservationId}: ${x.reason} (run again)`),
  ].join('\n');
}
