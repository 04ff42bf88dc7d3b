/**
 * Sends calls of one SQL statement together: calls arriving while the previous statement is in the database
 * wait and go in the next one, as one statement and one transaction. A lone call runs at once, alone (no
 * added latency when the load is light); under load many calls share a round trip, a transaction and the
 * statement's fixed cost. The next statement goes to the database before the calls of the one that returned
 * are answered: answering runs every waiting caller (responses written, the next requests parsed), and the
 * database need not wait for that. When a shared statement fails, each of its calls is run alone, so only a
 * failing call fails. A statement aborted by a deadlock or a serialization failure is rolled back whole and
 * run again (withTransientRetry).
 *
 * The ledger's coalescer (one batcher per org lane) and the proxy's rate limits use it.
 */
import { withTransientRetry } from './retry.ts';

type Pending<I, O> = { input: I; resolve: (o: O) => void; reject: (e: unknown) => void };

type Outcome<O> = { ok: true; outputs: O[] } | { ok: false; error: unknown };

export type StatementBatcherOptions = {
  maxBatch?: number;
  maxRetries?: number;
  /** Called whenever the queue has drained (the coalescer forgets idle lanes). */
  onIdle?: () => void;
};

export class StatementBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private busy = false;
  private readonly maxBatch: number;
  private readonly maxRetries: number;

  constructor(
    private readonly runOne: (input: I) => Promise<O>,
    private readonly runMany: (inputs: I[]) => Promise<O[]>,
    private readonly options: StatementBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxRetries = options.maxRetries ?? 5;
  }

  submit(input: I): Promise<O> {
    const promise = new Promise<O>((resolve, reject) => this.queue.push({ input, resolve, reject }));
    if (!this.busy) void this.drain();
    return promise;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      let batch = this.queue.splice(0, this.maxBatch);
      let running = this.attempt(batch);
      while (batch.length > 0) {
        const outcome = await running;
        const next = this.queue.splice(0, this.maxBatch);
        if (next.length > 0) {
          running = this.attempt(next);
          // Lets the next statement be written to its connection before the answered callers run.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        await this.answer(batch, outcome);
        batch = next;
      }
    } finally {
      this.busy = false;
      if (this.queue.length > 0) void this.drain();
      else this.options.onIdle?.();
    }
  }

  /** Runs a statement for the batch; never rejects (the outcome holds the error). */
  private attempt(batch: Pending<I, O>[]): Promise<Outcome<O>> {
    const run =
      batch.length === 1
        ? () => this.runOne(batch[0].input).then((o) => [o])
        : () => this.runMany(batch.map((p) => p.input));
    return withTransientRetry(run, this.maxRetries).then(
      (outputs) => ({ ok: true as const, outputs }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  }

  private async answer(batch: Pending<I, O>[], outcome: Outcome<O>): Promise<void> {
    if (outcome.ok) {
      batch.forEach((p, i) => p.resolve(outcome.outputs[i]));
      return;
    }
    if (batch.length === 1) {
      batch[0].reject(outcome.error);
      return;
    }
    // One call broke the whole statement: run each alone so only that one fails.
    await Promise.all(
      batch.map(async (p) => {
        try {
          p.resolve(await withTransientRetry(() => this.runOne(p.input), this.maxRetries));
        } catch (err) {
          p.reject(err);
        }
      }),
    );
  }
}
