/**
 * The journal of settlements the proxy owes but has not committed yet. A JSON answer is answered with its
 * charge priced in-process and committed after the answer; a stream is settled after its end. Between the two,
 * only this process knows the charge, so the settlement is appended here first (written to the file before
 * the answer leaves, so it survives this process dying) and `npm run proxy:reconcile` commits what a dead
 * process left (reconcile.ts). A commit with the same body is idempotent per reservation, so a line whose
 * settlement was committed after all is harmless.
 *
 * Each process writes its own file (`<pid>-<start ms>.jsonl` in the journal folder): lines arriving together
 * are written together, and the file is emptied whenever nothing is pending and it has grown past a size, so
 * it stays small. A settlement that failed for a reason other than a refusal keeps its file from being
 * emptied, for reconcile to commit.
 */
import { mkdirSync, openSync, write, ftruncateSync } from 'node:fs';
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

type Queued = { data: string; done: (err: Error | null) => void };

/** Bytes past which the file is emptied once nothing in it is pending. */
const COMPACT_BYTES = 1 << 20;

export class SettlementJournal {
  readonly file: string;
  private fd: number | null = null;
  private queue: Queued[] = [];
  private writing = false;
  private pending = 0;
  private bytes = 0;
  private keep = false;

  constructor(
    readonly dir: string,
    private readonly compactBytes = COMPACT_BYTES,
  ) {
    this.file = path.join(dir, `${process.pid}-${Date.now()}.jsonl`);
  }

  /** Resolves once the line is in the file; rejects when it could not be written (nothing is pending then). */
  append(entry: PendingSettlement): Promise<void> {
    this.pending += 1;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        data: `${JSON.stringify(entry)}\n`,
        done: (err) => {
          if (!err) return resolve();
          this.pending -= 1;
          reject(err);
        },
      });
      if (!this.writing) this.writeQueued();
    });
  }

  /**
   * The appended settlement was committed, or refused for good (`committed` true), or failed otherwise and is
   * left to reconcile (false).
   */
  resolved(committed: boolean): void {
    this.pending -= 1;
    if (!committed) this.keep = true;
    if (this.pending === 0 && !this.keep && this.bytes >= this.compactBytes && this.fd !== null && !this.writing) {
      ftruncateSync(this.fd, 0);
      this.bytes = 0;
    }
  }

  private writeQueued(): void {
    const batch = this.queue.splice(0);
    const finish = (err: Error | null) => {
      for (const q of batch) q.done(err);
      if (this.queue.length > 0) this.writeQueued();
      else this.writing = false;
    };
    this.writing = true;
    const data = Buffer.from(batch.map((q) => q.data).join(''));
    try {
      if (this.fd === null) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.fd = openSync(this.file, 'a', 0o600);
      }
    } catch (err) {
      return finish(err as Error);
    }
    write(this.fd, data, (err, written) => {
      if (!err && written === data.length) this.bytes += written;
      finish(err ?? (written === data.length ? null : new Error('short write to the settlement journal')));
    });
  }
}
