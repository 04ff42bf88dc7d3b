/**
 * The ledger's model-based property (lib/ledger/testing/property.ts) with as many runs as you like, against a
 * throwaway embedded PostgreSQL migrated from prisma/migrations:
 *
 *   tsx scripts/ledger-property.ts --runs 20000 [--seed 42] [--max-steps 15]
 *
 * Prints fast-check's counterexample (seed, path and the shrunk scenario) and exits 1 when the ledger and the
 * model disagree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb } from '../lib/db/client.ts';
import { startEmbeddedPostgres } from '../lib/db/embedded.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { createPgPool } from '../lib/db/pg.ts';
import { pgRunner } from '../lib/ledger/apply.ts';
import { assertLedgerProperty } from '../lib/ledger/testing/property.ts';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { runs: { type: 'string' }, seed: { type: 'string' }, 'max-steps': { type: 'string' } },
  });
  const runs = positiveInt('runs', values.runs, 20_000);
  const maxSteps = positiveInt('max-steps', values['max-steps'], 15);
  const seed = values.seed === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'credits-ledger-property-'));
  const pg = await startEmbeddedPostgres(dir, { persistent: false });
  const db = createDb(pg.url, { poolSize: 4 });
  const pool = createPgPool(pg.url, 4);
  try {
    await migrateDatabase(pg.url);
    console.log(`ledger property: ${runs} runs of up to ${maxSteps} steps, seed ${seed}`);
    const started = Date.now();
    const step = Math.max(1, Math.round(runs / 20));
    const onRun = (done: number) => {
      if (done % step === 0) console.log(`  ${done} scenarios, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    };
    await assertLedgerProperty({ db, run: pgRunner(pool) }, { numRuns: runs, seed, maxSteps, onRun });
    console.log(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    const cause = err instanceof Error ? err.cause : undefined;
    if (cause) console.error('\nCaused by:', cause instanceof Error ? cause.message : cause);
    return 1;
  } finally {
    await pool.end();
    await db.$disconnect();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
