/** The periodic jobs of a running deployment, started by `npm start` next to the web server. */
import type pg from 'pg';
import { logger } from '../http/logger.ts';
import { pgRunner } from '../ledger/apply.ts';
import { purgeIdempotencyKeys, refillAllocations, sweepDueAccounts } from './ledger-jobs.ts';
import { startScheduler } from './scheduler.ts';

export function startLedgerJobs(pool: pg.Pool): () => void {
  const run = pgRunner(pool);
  const log = logger.child({ component: 'jobs' });
  return startScheduler(
    async (fn) => {
      const client = await pool.connect();
      try {
        return await fn(pgRunner(client));
      } finally {
        client.release();
      }
    },
    [
      { name: 'ledger.sweep', everyMs: 5_000, run: () => sweepDueAccounts(run) },
      { name: 'ledger.refill', everyMs: 10 * 60_000, run: () => refillAllocations(run) },
      { name: 'ledger.purge-idempotency', everyMs: 60 * 60_000, run: () => purgeIdempotencyKeys(run) },
    ],
    { info: (o, m) => log.debug(o, m), error: (o, m) => log.error(o, m) },
  );
}
