/**
 * Model-based property test of the ledger: random sequences of grants (pool and members, with and without
 * expiry and priority), allocations, reclaims, transfers, holds, commits below, at and above the hold,
 * releases, repeated commits, leases and captures of them (repeated, within and beyond what they hold),
 * usage events with repeated ids, idempotent replays and clock jumps, checked
 * after every step against a pure model and against the ledger's own invariants (see testing/property.ts).
 * LEDGER_PROPERTY_RUNS sets the number of runs (1000 by default); scripts/ledger-property.ts runs more.
 *
 * A second run sends every operation through the set-based path of reserves and commits (ledger_fast_batch,
 * which ledger_apply otherwise tries only for batches of two or more): its answers and effects must be the
 * same as the per-operation functions', and where it declines, the per-operation functions take over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPgPool } from '../db/pg.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { pgRunner } from './apply.ts';
import { assertLedgerProperty } from './testing/property.ts';

const runs = Number(process.env.LEDGER_PROPERTY_RUNS ?? 1000) || 1000;

const PgPool = pg.Pool;
const fastRuns = Math.max(100, Math.round(runs * 0.3));

let database: TestDatabase;
let pool: pg.Pool;
let fastPool: pg.Pool;

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 4);
  fastPool = new PgPool({ connectionString: database.url, max: 4, options: '-c credits.fast_batch_min=1' });
});

afterAll(async () => {
  await pool.end();
  await fastPool.end();
  await database.db.$disconnect();
});

describe('ledger model', () => {
  it(
    `agrees with the model and keeps every invariant after every step (${runs} runs)`,
    async () => {
      await assertLedgerProperty({ db: database.db, run: pgRunner(pool) }, { numRuns: runs });
    },
    Math.max(60_000, runs * 1_000),
  );

  it(
    `agrees with the model with every reserve and commit on the set-based path (${fastRuns} runs)`,
    async () => {
      const { rows } = await fastPool.query("SELECT current_setting('credits.fast_batch_min') AS min");
      expect(rows[0].min).toBe('1');
      await assertLedgerProperty({ db: database.db, run: pgRunner(fastPool) }, { numRuns: fastRuns });
    },
    Math.max(60_000, fastRuns * 1_000),
  );
});
