import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase, type TestDatabase } from '../test/db-harness.ts';
import { withDatabase } from './database-url.ts';
import { checkMigrationsMatchSchema } from './migration-check.ts';
import { migrateDatabase, MIGRATIONS_DIR, pendingMigrations, readMigrations } from './migrate.ts';

let t: TestDatabase;
const scratch: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `mig_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: t.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return withDatabase(t.adminUrl, name);
}

beforeAll(async () => {
  t = await useTestDatabase();
});

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('build exactly the database schema.prisma describes', async () => {
    expect(await checkMigrationsMatchSchema(t.adminUrl)).toEqual([]);
  });

  it('detect a schema.prisma change that no migration holds', async () => {
    // Same migrations, one column dropped from the first: the check must name the missing column.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'credits-mig-'));
    scratch.push(dir);
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const first = readMigrations(dir)[0];
    const file = path.join(dir, first.name, 'migration.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"name" TEXT NOT NULL,', ''));
    const problems = await checkMigrationsMatchSchema(t.adminUrl, dir);
    expect(problems.some((p) => p.includes('.name'))).toBe(true);
  });

  it('are recorded in _prisma_migrations the way prisma migrate deploy records them', async () => {
    const url = await freshDatabase();
    expect(await pendingMigrations(url)).toEqual(readMigrations().map((m) => m.name));
    const applied = await migrateDatabase(url);
    expect(applied).toEqual(readMigrations().map((m) => m.name));
    expect(await pendingMigrations(url)).toEqual([]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    await client.end();
    expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count])).toEqual(
      readMigrations().map((m) => [m.name, m.checksum, 1]),
    );
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  it('apply exactly once when several instances start together', async () => {
    const url = await freshDatabase();
    const results = await Promise.all(Array.from({ length: 5 }, () => migrateDatabase(url)));
    const appliedCounts = results.map((r) => r.length).sort();
    expect(appliedCounts).toEqual([0, 0, 0, 0, readMigrations().length]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM _prisma_migrations');
    await client.end();
    expect(rows[0].n).toBe(readMigrations().length);
  });

  it('stop at a migration that fails and roll it back whole', async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'credits-mig-'));
    scratch.push(dir);
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const broken = path.join(dir, '99990101000000_broken');
    cpSync(path.join(dir, readMigrations(dir)[0].name), broken, { recursive: true });
    writeFileSync(path.join(broken, 'migration.sql'), 'CREATE TABLE "x" (id int); SELECT * FROM no_such_table;');
    await expect(migrateDatabase(url, { dir })).rejects.toThrow(/99990101000000_broken failed/);
    // The failed migration's statements were rolled back as a whole; earlier ones stay applied.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(`SELECT to_regclass('"x"') AS t, to_regclass('"orgs"') AS o`);
    await client.end();
    expect(rows[0]).toEqual({ t: null, o: 'orgs' });
  });
});
