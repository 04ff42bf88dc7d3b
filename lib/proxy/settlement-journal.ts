/**
 * The journal of settlements the proxy owes but has not committed yet. A JSON answer is answered with its
 * charge priced in-process and committed after the answer; a stream is settled after its end. Between the two,
 * only this process knows the charge, so the settlement is appended here first (written to the file before
 * the answer leaves, so it survives this process dying), and the next start of the proxy or `npm run
 * proxy:reconcile` commits what a stopped process left (settlement-reconcile.ts). A commit with the same body
 * is idempotent per reservation, so a line whose settlement was committed after all is harmless.
 *
 * Each process writes its own file (`<pid>-<start ms>.jsonl` in the journal folder), emptied whenever nothing
 * is pending and it has grown past a size, so it stays small. A settlement that failed for a reason other
 * than a refusal keeps its file from being emptied, for reconcile to commit.
 */
import { ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { MeteredUsage, ProxyEndpoint } from './meter.ts';

export type PendingSettlement = {
  at: string;
  orgId: string;
  reservationId: string;
  requestId: string;
  apiKeyId: string;
  endpoint: ProxyEndpoint;
  usage: MeteredUsage;
  /** The charge the answer named and its terms; null when the charge is priced as it is committed. */
  quote: { charged: string; terms: Record<string, string | null> } | null;
};

/** Bytes past which the file is emptied once nothing in it is pending. */
const COMPACT_BYTES = 1 << 20;

export class SettlementJournal {
  readonly file: string;
  private fd: number | null = null;
  private pending = 0;
  private bytes = 0;
  private keep = false;

  constructor(
    readonly dir: string,
    private readonly compactBytes = COMPACT_BYTES,
  ) {
    this.file = path.join(dir, `${process.pid}-${Date.now()}.jsonl`);
  }

  /**
   * Writes the line to the file (in the operating system's hands once this returns, so it outlives this
   * process) and counts it as pending; throws when it could not be written (nothing is pending then). A
   * synchronous write of one short line costs less than handing it to the thread pool.
   */
  append(entry: PendingSettlement): void {
    const data = Buffer.from(`${JSON.stringify(entry)}\n`);
    if (this.fd === null) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.fd = openSync(this.file, 'a', 0o600);
    }
    const written = writeSync(this.fd, data);
    if (written !== data.length) throw new Error('short write to the settlement journal');
    this.bytes += written;
    this.pending += 1;
  }

  /**
   * The appended settlement was committed, or refused for good (`committed` true), or failed otherwise and is
   * left to reconcile (false).
   */
  resolved(committed: boolean): void {
    this.pending -= 1;
    if (!committed) this.keep = true;
    if (this.pending === 0 && !this.keep && this.bytes >= this.compactBytes && this.fd !== null) {
      ftruncateSync(this.fd, 0);
      this.bytes = 0;
    }
  }
}
