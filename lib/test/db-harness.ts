/**
 * Per-file test databases: `useTestDatabase()` (in beforeAll) clones the migrated template into a fresh
 * database and returns its URL and a Prisma client. The URL is also put in DATABASE_URL so code under test that
 * uses the shared `db` client talks to the same database.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Db } from '../db/client.ts';

import { withDatabase } from '../db/database-url.ts';
import { TEMPLATE_DB } from './db-global-setup.ts';

export type TestDatabase = { url: string; adminUrl: string; db: Db; name: string };

let current: Promise<TestDatabase> | undefined;

/** A fresh, migrated database for this test file (the same one for every call within the file). */
export function useTestDatabase(): Promise<TestDatabase> {
  current ??= (async () => {
    const adminUrl = inject('pgAdminUrl');
    const name = `credits_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
    } finally {
      await admin.end();
    }
    const url = withDatabase(adminUrl, name);
    process.env.DATABASE_URL = url;
    return { url, adminUrl, db: createDb(url, { poolSize: 20 }), name };
  })();
  return current;
}
