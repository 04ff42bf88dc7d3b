/**
 * The journal of settlements the proxy owes but has not committed yet. A JSON answer is answered with its
 * charge priced in-process and committed after the answer; a stream is settled after its end; a request
 * answered from a lease (leased-meter.ts) is captured with others shortly after. Between the two, only this
 * process knows the charge, so the settlement is appended here first (written to the file before the answer
 * leaves, so it survives this process dying), and the next start of the proxy or `npm run proxy:reconcile`
 * commits what a stopped process left (settlement-reconcile.ts). A commit with the same body is idempotent
 * per reservation, and a capture per request, so a line whose settlement was committed after all is harmless.
 * The leases a process holds are journaled too (until released), so that reconcile releases what a stopped
 * process held, once its requests are charged.
 *
 * Each process writes files of its own (`<pid>-<start ms>.jsonl` in the journal folder). Once the current
 * file has grown past a size, new lines go to a new file, and an older file is removed as soon as nothing in
 * it is pending; the current file is emptied whenever nothing in it is pending and it has grown past the size.
 * A settlement that failed for a reason other than a refusal keeps its file, for reconcile to commit.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { MeteredUsage, ProxyEndpoint } from './meter.ts';

export type PendingSettlement = {
  at: string;
  orgId: string;
  reservationId: string;
  /** The lease the request was answered from; `reservationId` then names the request's charge in it. */
  leaseId?: string;
  requestId: string;
  apiKeyId: string;
  endpoint: ProxyEndpoint;
  usage: MeteredUsage;
  /** The charge the answer named and its terms; null when the charge is priced as it is committed. */
  quote: { charged: string; terms: Record<string, string | null> } | null;
};

/** A lease held by the process, to release once the requests answered from it are charged. */
export type HeldLease = { kind: 'lease'; at: string; orgId: string; leaseId: string };

export type JournalEntry = PendingSettlement | HeldLease;

/** Bytes past which a file is emptied, or left for a new one, once nothing in it is pending. */
const COMPACT_BYTES = 1 << 20;

type JournalFile = { name: string; fd: number; pending: number; bytes: number; keep: boolean };

/** One appended line, to resolve once its settlement is committed (or refused for good). */
export type JournalTicket = { resolve(committed: boolean): void };

export class SettlementJournal {
  private current: JournalFile | null = null;
  private readonly started = Date.now();
  private files = 0;

  constructor(
    readonly dir: string,
    private readonly compactBytes = COMPACT_BYTES,
  ) {}

  /** The file new lines go to. */
  get file(): string {
    return path.join(this.dir, this.current?.name ?? this.nameOf(this.files));
  }

  private nameOf(n: number): string {
    return n === 0 ? `${process.pid}-${this.started}.jsonl` : `${process.pid}-${this.started}-${n}.jsonl`;
  }

  /**
   * Writes the line to the file (in the operating system's hands once this returns, so it outlives this
   * process) and counts it as pending until the ticket is resolved; throws when it could not be written
   * (nothing is pending then). A synchronous write of one short line costs less than handing it to the
   * thread pool.
   */
  append(entry: JournalEntry): JournalTicket {
    const data = Buffer.from(`${JSON.stringify(entry)}\n`);
    let file = this.current;
    if (file && file.bytes >= this.compactBytes && (file.pending > 0 || file.keep)) {
      // Still needed: left as it is (removed once nothing in it is pending), new lines go to a new file.
      this.current = null;
      file = null;
    }
    if (!file) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const name = this.nameOf(this.files);
      this.files += 1;
      file = { name, fd: openSync(path.join(this.dir, name), 'a', 0o600), pending: 0, bytes: 0, keep: false };
      this.current = file;
    }
    const written = writeSync(file.fd, data);
    if (written !== data.length) throw new Error('short write to the settlement journal');
    file.bytes += written;
    file.pending += 1;
    const owner = file;
    let done = false;
    return {
      resolve: (committed) => {
        if (done) return;
        done = true;
        this.resolved(owner, committed);
      },
    };
  }

  private resolved(file: JournalFile, committed: boolean): void {
    file.pending -= 1;
    if (!committed) file.keep = true;
    if (file.pending > 0 || file.keep) return;
    if (file !== this.current) {
      closeSync(file.fd);
      rmSync(path.join(this.dir, file.name), { force: true });
    } else if (file.bytes >= this.compactBytes) {
      ftruncateSync(file.fd, 0);
      file.bytes = 0;
    }
  }
}
