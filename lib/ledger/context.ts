/**
 * What ledger functions need, passed in explicitly: the Prisma client (lookups, listings), a SQL runner for
 * the ledger's database functions, optionally the process's coalescer for hot paths, and a clock. `now`
 * overrides the database clock only in tests; in production expiry is decided by the database.
 */
import type { Db } from '../db/client.ts';
import { getDb } from '../db/client.ts';
import { getPgPool } from '../db/pg.ts';
import { getEnv } from '../env.ts';
import { getMetrics } from '../metrics/registry.ts';
import { applyOps, pgRunner, type LedgerOp, type LedgerResult, type SqlRunner } from './apply.ts';
import { LedgerCoalescer } from './coalescer.ts';

export type LedgerContext = {
  db: Db;
  run: SqlRunner;
  coalescer?: LedgerCoalescer;
  now?: () => Date;
};

const holder = globalThis as unknown as { __creditsLedger?: LedgerContext };

/** The process's ledger context over DATABASE_URL, with coalescing of hot accounts. */
export function getLedgerContext(): LedgerContext {
  if (!holder.__creditsLedger) {
    const run = pgRunner(getPgPool());
    holder.__creditsLedger = { db: getDb(), run, coalescer: new LedgerCoalescer(run, { lanes: getEnv().LEDGER_LANES }) };
  }
  return holder.__creditsLedger;
}

/** Runs one operation: through the coalescer when there is one (and no test clock), else on its own. */
export async function runOp(ctx: LedgerContext, orgId: string, op: LedgerOp, laneKey: string): Promise<LedgerResult> {
  const result =
    ctx.coalescer && !ctx.now
      ? await ctx.coalescer.submit(orgId, op, laneKey)
      : (await applyOps(ctx.run, orgId, [op], ctx.now?.()))[0];
  getMetrics().ledgerOps.inc({ op: op.type, outcome: result.ok ? 'ok' : 'refused' });
  return result;
}

export async function runOps(ctx: LedgerContext, orgId: string, ops: LedgerOp[]): Promise<LedgerResult[]> {
  if (ops.length === 0) return [];
  return applyOps(ctx.run, orgId, ops, ctx.now?.());
}
