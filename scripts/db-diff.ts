/**
 * Migrations from schema changes, with Prisma's schema engine compiled to WebAssembly (no native engine).
 *
 *   npm run db:diff -- <name>    writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL from the
 *                                schema.prisma committed at HEAD (or nothing, for the first migration) to the one
 *                                in the working tree; review it, add hand-written invariants, commit both.
 *                                `--from <rev>` diffs from the schema.prisma of another commit instead.
 *   npm run db:diff -- --check   builds one scratch database from the migrations and one from schema.prisma and
 *                                compares their catalogs; exits 1 on any difference.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../lib/db/embedded.ts';
import { MIGRATIONS_DIR } from '../lib/db/migrate.ts';
import { diffSchemas, readSchemaFile, type SchemaSource } from '../lib/db/schema-engine.ts';
import { checkMigrationsMatchSchema } from '../lib/db/migration-check.ts';

function committedSchema(rev: string): SchemaSource {
  const hasMigrations = readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).some((d) => d.isDirectory());
  if (!hasMigrations) return { tag: 'empty' };
  const content = execFileSync('git', ['show', `${rev}:prisma/schema.prisma`], { encoding: 'utf8' });
  return { tag: 'schemaDatamodel', files: [{ path: 'prisma/schema.prisma', content }] };
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const fromIndex = args.indexOf('--from');
  const fromRev = fromIndex >= 0 ? args[fromIndex + 1] : 'HEAD';
  const name = args.find((a, i) => !a.startsWith('--') && (fromIndex < 0 || i !== fromIndex + 1));
  if (!check && (!name || !/^[a-z0-9_]+$/.test(name))) {
    console.error('usage: npm run db:diff -- <snake_case_name> [--from <git rev>] | --check');
    process.exit(2);
  }
  mkdirSync(MIGRATIONS_DIR, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'credits-diff-'));
  const pg = await startEmbeddedPostgres(dir, { persistent: false });
  try {
    if (check) {
      const problems = await checkMigrationsMatchSchema(pg.adminUrl);
      if (problems.length) {
        console.error(`The migrations do not build schema.prisma:\n${problems.join('\n')}`);
        process.exitCode = 1;
      } else console.log('The migrations build exactly schema.prisma');
      return;
    }
    const sql = await diffSchemas(pg.url, committedSchema(fromRev), { tag: 'schemaDatamodel', files: [readSchemaFile()] });
    if (!sql) {
      console.log('No changes between the committed schema.prisma and the working tree');
      return;
    }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const target = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
    mkdirSync(target, { recursive: true });
    writeFileSync(path.join(target, 'migration.sql'), `${sql}\n`);
    console.log(`Wrote ${path.relative(process.cwd(), target)}/migration.sql`);
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
