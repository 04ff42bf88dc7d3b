/**
 * npm run proxy:reconcile [-- <journal file>] — charges the requests the proxy forwarded unmetered while the
 * credit database was unreachable (default journal: DATA_DIR/proxy-unmetered.jsonl), then commits the
 * settlements proxy processes journaled and may not have committed (DATA_DIR/proxy-settlements/). Safe to run
 * again: each request is charged once. Prints what was charged, skipped and refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openCliDatabase } from '../lib/db/cli-database.ts';
import { createPgPool } from '../lib/db/pg.ts';
import { getEnv } from '../lib/env.ts';
import { pgRunner } from '../lib/ledger/apply.ts';
import { leasedMeter } from '../lib/proxy/leased-meter.ts';
import { describeReport, reconcileUnmetered } from '../lib/proxy/reconcile.ts';
import { settlementJournalDir } from '../lib/proxy/runtime.ts';
import { describeSettlementReport, reconcileSettlementDir } from '../lib/proxy/settlement-reconcile.ts';

async function main(): Promise<number> {
  const dataDir = getEnv().DATA_DIR;
  const file = process.argv[2] ?? path.join(path.resolve(dataDir), 'proxy-unmetered.jsonl');
  const database = await openCliDatabase();
  const pool = createPgPool(database.url, 2);
  const ctx = { db: database.db, run: pgRunner(pool) };
  try {
    let code = 0;
    if (process.argv[2] || existsSync(file)) {
      const report = await reconcileUnmetered(ctx, readFileSync(file, 'utf8'));
      process.stdout.write(`${describeReport(report)}\n`);
      if (report.rejected.length > 0 || report.unpriced.length > 0) code = 1;
    }
    const settlements = await reconcileSettlementDir(leasedMeter(ctx), settlementJournalDir(dataDir));
    process.stdout.write(`${describeSettlementReport(settlements)}\n`);
    if (settlements.refused.length > 0 || settlements.failed.length > 0) code = 1;
    return code;
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
