/**
 * A small in-process scheduler for periodic jobs: each job runs on its interval, never overlapping itself,
 * and only in one instance at a time across the deployment (a PostgreSQL advisory lock per job, tried without
 * waiting: an instance that does not get it skips that round).
 */
import { createHash } from 'node:crypto';
import type { SqlRunner } from '../ledger/apply.ts';

export type Job = { name: string; everyMs: number; run: () => Promise<unknown> };

export type JobLog = { info(o: object, msg: string): void; error(o: object, msg: string): void };

function lockKey(name: string): string {
  // A stable 63-bit key per job name.
  return BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(`credits-job:${name}`).digest('hex').slice(0, 16)}`)).toString();
}

export function startScheduler(
  withConnection: <T>(fn: (run: SqlRunner) => Promise<T>) => Promise<T>,
  jobs: Job[],
  log: JobLog,
): () => void {
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  for (const job of jobs) {
    let running = false;
    const tick = async () => {
      if (running || stopped) return;
      running = true;
      try {
        await withConnection(async (run) => {
          const key = lockKey(job.name);
          const got = await run('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
          if (!got[0].ok) return;
          try {
            const result = await job.run();
            log.info({ job: job.name, result }, 'job ran');
          } finally {
            await run('SELECT pg_advisory_unlock($1::bigint)', [key]);
          }
        });
      } catch (err) {
        log.error({ job: job.name, err }, 'job failed');
      } finally {
        running = false;
      }
    };
    timers.push(setInterval(tick, job.everyMs));
    setTimeout(tick, 1_000).unref();
  }
  timers.forEach((t) => t.unref());
  return () => {
    stopped = true;
    timers.forEach(clearInterval);
  };
}
