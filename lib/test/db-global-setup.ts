/**
 * One PostgreSQL server for the whole `db` test run: TEST_DATABASE_URL's server when set (local only), else a
 * throwaway embedded cluster. A template database is migrated once; every test file clones it into a fresh
 * database of its own (see db-harness.ts), so files never see each other's rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { withDatabase } from '../db/database-url.ts';
import { assertLocalDatabaseUrl } from './local-url.ts';

export const TEMPLATE_DB = 'credits_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl) {
    assertLocalDatabaseUrl(adminUrl);
  } else {
    dir = mkdtempSync(path.join(os.tmpdir(), 'credits-test-pg-'));
    embedded = await startEmbeddedPostgres(dir, { persistent: false });
    adminUrl = embedded.adminUrl;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  await migrateDatabase(withDatabase(adminUrl, TEMPLATE_DB));
  project.provide('pgAdminUrl', adminUrl);

  return async () => {
    if (embedded) await embedded.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}
