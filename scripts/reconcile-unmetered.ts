/**
 * npm run proxy:reconcile [-- <journal file>] — charges the requests the proxy forwarded unmetered while the
 * credit database was unreachable (default journal: DATA_DIR/proxy-unmetered.jsonl). Safe to run again: each
 * request is charged once. Prints what was charged, skipped and refused.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openCliDatabase } from '../lib/db/cli-database.ts';
import { createPgPool } from '../lib/db/pg.ts';
import { getEnv } from '../lib/env.ts';
import { pgRunner } from '../lib/ledger/apply.ts';
import { describeReport, reconcileUnmetered } from '../lib/proxy/reconcile.ts';

async function main(): Promise<number> {
  const file = process.argv[2] ?? path.join(path.resolve(getEnv().DATA_DIR), 'proxy-unmetered.jsonl');
  const text = readFileSync(file, 'utf8');
  const database = await openCliDatabase();
  const pool = createPgPool(database.url, 2);
  try {
    const report = await reconcileUnmetered({ db: database.db, run: pgRunner(pool) }, text);
    process.stdout.write(`${describeReport(report)}\n`);
    return report.rejected.length > 0 || report.unpriced.length > 0 ? 1 : 0;
  } finally {
    await pool.end();
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`Error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
