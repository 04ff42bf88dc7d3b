/**
 * Prisma's schema engine compiled to WebAssembly, driven through the pg driver adapter. It computes the SQL
 * between two schema states (empty, a live database, or schema.prisma) without the native engine binary that
 * the Prisma CLI would download. Used to write new migrations (`npm run db:diff`) and by the test that proves
 * the migrations build exactly the database schema.prisma describes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

type SchemaFile = { path: string; content: string };
export type SchemaSource =
  | { tag: 'empty' }
  | { tag: 'schemaDatamodel'; files: SchemaFile[] }
  | { tag: 'schemaDatasource'; files: SchemaFile[]; configDir: string };

type WasmEngine = {
  diff(params: unknown): Promise<{ exitCode: number; stdout: string }>;
  free(): void;
};

let enginePromise: Promise<{ SchemaEngine: { new: (...a: unknown[]) => Promise<WasmEngine> } }> | undefined;

async function loadRuntime() {
  enginePromise ??= (async () => {
    const runtime = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as unknown as Record<
      string,
      unknown
    > & { SchemaEngine: { new: (...a: unknown[]) => Promise<WasmEngine> }; __wbg_set_wasm(e: unknown): void };
    const require = createRequire(import.meta.url);
    const wasmFile = path.join(
      path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    );
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile)), {
      './schema_engine_bg.js': runtime as WebAssembly.ModuleImports,
    });
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return runtime;
  })();
  return enginePromise;
}

export function readSchemaFile(schemaPath = 'prisma/schema.prisma'): SchemaFile {
  return { path: schemaPath, content: readFileSync(schemaPath, 'utf8') };
}

/**
 * SQL that turns `from` into `to`. `databaseUrl` is the database the engine connects to for a
 * `schemaDatasource` source. An empty string means the two are the same.
 */
export async function diffSchemas(databaseUrl: string, from: SchemaSource, to: SchemaSource): Promise<string> {
  const runtime = await loadRuntime();
  const schema = readSchemaFile();
  const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: databaseUrl }));
  const engine = await runtime.SchemaEngine.new({ datamodels: [[schema.path, schema.content]] }, () => {}, factory);
  try {
    const result = await engine.diff({
      from,
      to,
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    return normalizeDiff(result.stdout);
  } finally {
    engine.free();
  }
}

/** The engine reports "no difference" as a comment; treat it, and whitespace, as empty. */
function normalizeDiff(sql: string): string {
  const trimmed = sql.trim();
  return trimmed === '-- This is an empty migration.' ? '' : trimmed;
}
