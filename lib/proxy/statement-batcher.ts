/**
 * Sends calls of one SQL statement together: calls arriving while the previous statement is in the database
 * wait and go in the next one, as one statement and one transaction. A lone call runs at once, alone (no
 * added latency when the load is light); under load many calls share a round trip, a transaction and the
 * statement's fixed cost. When a shared statement fails, each of its calls is run alone, so only a failing
 * call fails. A statement aborted by a deadlock or a serialization failure is rolled back whole and run again.
 */
import { withTransientRetry } from '../ledger/retry.ts';

type Pending<I, O> = { input: I; resolve: (o: O) => void; reject: (e: unknown) => void };

export class StatementBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private busy = false;

  constructor(
    private readonly runOne: (input: I) => Promise<O>,
    private readonly runMany: (inputs: I[]) => Promise<O[]>,
    private readonly maxBatch = 256,
  ) {}

  submit(input: I): Promise<O> {
    const promise = new Promise<O>((resolve, reject) => this.queue.push({ input, resolve, reject }));
    if (!this.busy) void this.drain();
    return promise;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) await this.execute(this.queue.splice(0, this.maxBatch));
    } finally {
      this.busy = false;
    }
  }

  private async execute(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outputs = await withTransientRetry(() => this.runMany(batch.map((p) => p.input)));
        batch.forEach((p, i) => p.resolve(outputs[i]));
        return;
      } catch {
        // Run each alone below, so that only a failing call fails.
      }
    }
    await Promise.all(
      batch.map(async (p) => {
        try {
          p.resolve(await withTransientRetry(() => this.runOne(p.input)));
        } catch (err) {
          p.reject(err);
        }
      }),
    );
  }
}
