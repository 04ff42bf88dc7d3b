/**
 * Proof that prisma/migrations and schema.prisma agree: on one PostgreSQL server, build one database by applying
 * the migrations and another from the SQL Prisma's schema engine derives from schema.prisma, then compare
 * their catalogs. Returns the differences (none when they agree).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from './database-url.ts';
import { migrateDatabase } from './migrate.ts';
import { compareSchemas, describeSchema } from './schema-catalog.ts';
import { diffSchemas, readSchemaFile } from './schema-engine.ts';

export async function checkMigrationsMatchSchema(adminUrl: string, migrationsDir?: string): Promise<string[]> {
  const suffix = randomBytes(4).toString('hex');
  const fromMigrations = `check_migrations_${suffix}`;
  const fromSchema = `check_schema_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${fromMigrations}`);
    await admin.query(`CREATE DATABASE ${fromSchema}`);
    const migrationsUrl = withDatabase(adminUrl, fromMigrations);
    const schemaUrl = withDatabase(adminUrl, fromSchema);
    await migrateDatabase(migrationsUrl, { dir: migrationsDir });
    const sql = await diffSchemas(schemaUrl, { tag: 'empty' }, { tag: 'schemaDatamodel', files: [readSchemaFile()] });
    const client = new pg.Client({ connectionString: schemaUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return compareSchemas(await describeSchema(schemaUrl), await describeSchema(migrationsUrl));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${fromMigrations} WITH (FORCE)`).catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${fromSchema} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}
