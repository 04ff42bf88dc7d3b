/**
 * Model-based property test of the ledger: random sequences of grants (pool and members, with and without
 * expiry and priority), allocations, reclaims, transfers, holds, commits below, at and above the hold,
 * releases, repeated commits, usage events with repeated ids, idempotent replays and clock jumps, checked
 * after every step against a pure model and against the ledger's own invariants (see testing/property.ts).
 * LEDGER_PROPERTY_RUNS sets the number of runs (1000 by default); scripts/ledger-property.ts runs more.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type pg from 'pg';
import { createPgPool } from '../db/pg.ts';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { pgRunner } from './apply.ts';
import { assertLedgerProperty } from './testing/property.ts';

const runs = Number(process.env.LEDGER_PROPERTY_RUNS ?? 1000) || 1000;

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await useTestDatabase();
  pool = createPgPool(database.url, 4);
});

afterAll(async () => {
  await pool.end();
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
});
