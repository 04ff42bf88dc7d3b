/**
 * What the proxy does when the credit database cannot be reached. Failing closed (the default) answers 503.
 * Failing open forwards requests unmetered, up to a cap of credits per end user (priced by the meter from
 * what it knows without the database; a model it cannot price is refused). The most a request can cost is set
 * aside from the cap before it is forwarded and replaced by its price after, so requests at once never pass
 * the cap together. The allowance is per process and per outage, and starts again once the database answers.
 * Every unmetered request is logged twice: appended as a JSON line to a journal file in the data folder
 * (append-only, survives restarts) and as a log line with the stable event name
 * `proxy.unmetered_request`. Reconciliation (reconcile.ts, `npm run proxy:reconcile`): each line carries org,
 * end user, model, usage, price and request id, and is charged later as a usage event whose id is the
 * request id, so the ledger charges it once.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../http/logger.ts';
import type { MeteredUsage } from './meter.ts';

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

const userKey = (orgId: string, user: string) => `${orgId}\u0000${user}`;

export class UnmeteredGuard {
  private readonly spent = new Map<string, bigint>();
  private ready: Promise<unknown> | null = null;

  constructor(
    private readonly journalFile: string,
    private readonly log: Logger,
  ) {}

  /**
   * Sets `amount` (the most a request can cost) aside from the user's unmetered allowance of `cap`
   * micro-credits, when it fits; false when it does not. Checked and taken in one step, so requests at once
   * never pass the cap together.
   */
  take(orgId: string, user: string, amount: bigint, cap: bigint): boolean {
    const key = userKey(orgId, user);
    const spent = this.spent.get(key) ?? 0n;
    if (spent + amount > cap) return false;
    this.spent.set(key, spent + amount);
    return true;
  }

  /** Gives back what `take` set aside for a request that cost nothing (the upstream failed). */
  giveBack(orgId: string, user: string, amount: bigint): void {
    this.adjust(userKey(orgId, user), -amount);
  }

  private adjust(key: string, by: bigint): void {
    const spent = (this.spent.get(key) ?? 0n) + by;
    if (spent > 0n) this.spent.set(key, spent);
    else this.spent.delete(key);
  }

  /** The database answered for this org again: its users' allowances start over. */
  recovered(orgId: string): void {
    if (this.spent.size === 0) return;
    for (const key of this.spent.keys()) if (key.startsWith(`${orgId}\u0000`)) this.spent.delete(key);
  }

  /**
   * Counts the request's price against the allowance instead of the `setAside` taken for it, and logs it; the
   * journal write never fails the request.
   */
  async record(entry: UnmeteredEntry, setAside: bigint): Promise<void> {
    this.adjust(userKey(entry.orgId, entry.user), (entry.price ? BigInt(entry.price) : setAside) - setAside);
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
