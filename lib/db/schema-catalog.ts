/**
 * A normalized description of a database schema read from PostgreSQL's catalogs: enums, tables, columns,
 * primary/unique/foreign keys and indexes. Two databases built by different routes (the migrations, and the
 * SQL Prisma derives from schema.prisma) have equal descriptions exactly when Prisma would see no drift.
 * Check constraints, triggers and functions are left out, as Prisma's diff leaves them out: migrations may add
 * them by hand for invariants Prisma cannot express.
 */
import pg from 'pg';

export type SchemaDescription = {
  enums: Record<string, string[]>;
  columns: Record<string, string>;
  constraints: Record<string, string>;
  indexes: Record<string, string>;
};

export async function describeSchema(url: string, schema = 'public'): Promise<SchemaDescription> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const enums = await client.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = $1 GROUP BY t.typname`,
      [schema],
    );
    const columns = await client.query<{ key: string; def: string }>(
      `SELECT c.table_name || '.' || c.column_name AS key,
              concat_ws(' ', format_type(a.atttypid, a.atttypmod), CASE WHEN c.is_nullable = 'NO' THEN 'NOT NULL' END,
                        'DEFAULT ' || c.column_default, CASE WHEN a.attidentity <> '' THEN 'IDENTITY' END,
                        CASE WHEN a.attgenerated <> '' THEN 'GENERATED ' || pg_get_expr(d.adbin, d.adrelid) END) AS def
         FROM information_schema.columns c
         JOIN pg_class r ON r.relname = c.table_name
         JOIN pg_namespace n ON n.oid = r.relnamespace AND n.nspname = c.table_schema
         JOIN pg_attribute a ON a.attrelid = r.oid AND a.attname = c.column_name
         LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
        WHERE c.table_schema = $1 AND c.table_name <> '_prisma_migrations'`,
      [schema],
    );
    const constraints = await client.query<{ key: string; def: string }>(
      `SELECT r.relname || '.' || con.conname AS key, pg_get_constraintdef(con.oid) AS def
         FROM pg_constraint con JOIN pg_class r ON r.oid = con.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f', 'x') AND r.relname <> '_prisma_migrations'`,
      [schema],
    );
    const indexes = await client.query<{ key: string; def: string }>(
      `SELECT tablename || '.' || indexname AS key, indexdef AS def FROM pg_indexes
        WHERE schemaname = $1 AND tablename <> '_prisma_migrations'`,
      [schema],
    );
    const toRecord = (rows: { key: string; def: string }[]) =>
      Object.fromEntries(rows.map((r) => [r.key, r.def]).sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      enums: Object.fromEntries(enums.rows.map((r) => [r.name, r.labels]).sort(([a], [b]) => (a < b ? -1 : 1))),
      columns: toRecord(columns.rows),
      constraints: toRecord(constraints.rows),
      indexes: toRecord(indexes.rows),
    };
  } finally {
    await client.end();
  }
}

/** Human-readable differences between two descriptions; empty when they agree. */
export function compareSchemas(expected: SchemaDescription, actual: SchemaDescription): string[] {
  const problems: string[] = [];
  for (const part of ['enums', 'columns', 'constraints', 'indexes'] as const) {
    const a = expected[part] as Record<string, unknown>;
    const b = actual[part] as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = JSON.stringify(a[key]);
      const y = JSON.stringify(b[key]);
      if (x !== y) problems.push(`${part} ${key}: schema.prisma wants ${x ?? 'nothing'}, migrations give ${y ?? 'nothing'}`);
    }
  }
  return problems;
}
