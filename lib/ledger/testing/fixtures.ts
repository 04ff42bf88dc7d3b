/**
 * Ledger test fixtures over a test database: a ledger context whose clock the test moves, and fresh orgs and
 * members made through the same functions the app uses.
 */
import type pg from 'pg';
import type { Actor } from '../../auth/actor.ts';
import { createPgPool } from '../../db/pg.ts';
import { AppError } from '../../http/errors.ts';
import { createOrg } from '../../orgs/orgs.ts';
import type { TestDatabase } from '../../test/db-harness.ts';
import { createUser } from '../../users/create-user.ts';
import { pgRunner } from '../apply.ts';
import type { LedgerContext } from '../context.ts';

export const CREDIT = 1_000_000n;
export const system: Actor = { type: 'system' };

export type LedgerFixture = {
  /** A context on the test clock (`now` overrides the database clock in ledger_apply). */
  ctx: LedgerContext;
  now(): Date;
  /** Moves the test clock forward. */
  advance(seconds: number): void;
  /** The test clock plus `seconds`, as the ISO string the API takes. */
  at(seconds: number): string;
  newOrg(): Promise<string>;
  /** A member of the org; returns the user id, which names them in ledger calls. */
  newMember(orgId: string, externalId: string): Promise<string>;
  close(): Promise<void>;
};

let orgCount = 0;

export function ledgerFixture(database: TestDatabase, start = new Date('2026-03-10T12:00:00.000Z')): LedgerFixture {
  const pool: pg.Pool = createPgPool(database.url, 8);
  let clock = start.getTime();
  const ctx: LedgerContext = { db: database.db, run: pgRunner(pool), now: () => new Date(clock) };
  return {
    ctx,
    now: () => new Date(clock),
    advance: (seconds) => {
      clock += seconds * 1000;
    },
    at: (seconds) => new Date(clock + seconds * 1000).toISOString(),
    newOrg: async () => {
      orgCount += 1;
      const slug = `ledger-${process.pid}-${orgCount}`;
      return (await createOrg(database.db, { slug, name: `Ledger ${orgCount}` }, system)).id;
    },
    newMember: async (orgId, externalId) =>
      (await createUser(database.db, { externalId, org: { id: orgId, role: 'member' } }, system)).user.id,
    close: () => pool.end(),
  };
}

/** The AppError code a call rejects with; fails when it resolves or throws anything else. */
export async function errorCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected the call to be refused');
}
