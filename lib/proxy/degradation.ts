/**
 * What the proxy does when the credit database cannot be reached. Failing closed (the default) answers 503.
 * Failing open forwards requests unmetered, up to a cap of credits per end user (priced by the meter from
 * what it knows without the database); the allowance is per process and per outage, and starts again once
 * the database answers. Every unmetered request is logged twice: appended as a JSON line to a journal file
 * in the data folder (append-only, survives restarts) and as a log line with the stable event name
 * `proxy.unmetered_request`. Reconciliation (reconcile.ts, `npm run proxy:reconcile`): each line carries org,
 * end user, model, usage, price and request id, and is charged later as a usage event whose id is the
 * request id, so the ledger charges it once.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../http/logger.ts';
import type { MeteredUsage } from './meter.ts';

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  'P1001', // Prisma: cannot reach database server
  'P1002', // Prisma: database server timed out
  'P1017', // Prisma: server closed the connection
]);

/** Whether `err` says the database could not be reached (as opposed to a refusal or a bug). */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (unavailableCodes.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e.message === 'string' && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Can't reach database server/i.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

export type UnmeteredEntry = {
  at: string;
  requestId: string;
  orgId: string;
  apiKeyId: string;
  user: string;
  endpoint: string;
  usage: MeteredUsage | null;
  price: string | null;
  reason: string;
};

export class UnmeteredGuard {
  private readonly spent = new Map<string, bigint>();
  private ready: Promise<unknown> | null = null;

  constructor(
    private readonly journalFile: string,
    private readonly log: Logger,
  ) {}

  /** Whether the user still has unmetered allowance under `cap` micro-credits. */
  allows(orgId: string, user: string, cap: bigint): boolean {
    return (this.spent.get(`${orgId}\u0000${user}`) ?? 0n) < cap;
  }

  /** The database answered for this org again: its users' allowances start over. */
  recovered(orgId: string): void {
    if (this.spent.size === 0) return;
    for (const key of this.spent.keys()) if (key.startsWith(`${orgId}\u0000`)) this.spent.delete(key);
  }

  /** Counts the request against the allowance and logs it; the journal write never fails the request. */
  async record(entry: UnmeteredEntry): Promise<void> {
    const key = `${entry.orgId}\u0000${entry.user}`;
    if (entry.price) this.spent.set(key, (this.spent.get(key) ?? 0n) + BigInt(entry.price));
    this.log.warn({ event: 'proxy.unmetered_request', ...entry }, 'request forwarded unmetered: the credit database is unreachable');
    try {
      this.ready ??= mkdir(path.dirname(this.journalFile), { recursive: true });
      await this.ready;
      await appendFile(this.journalFile, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    } catch (err) {
      this.log.error({ err, event: 'proxy.unmetered_journal_failed', requestId: entry.requestId }, 'could not append to the unmetered journal');
    }
  }
}
