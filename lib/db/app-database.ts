/**
 * The database of an app process, a CLI run or a test server: DATABASE_URL's server when set, else the
 * embedded cluster of the data folder (started here, or joined when already running). Either way the
 * migrations are applied before anything else touches it.
 */
import { startEmbeddedPostgres } from './embedded.ts';
import { migrateDatabase } from './migrate.ts';

export type AppDatabase = {
  url: string;
  /** True for the embedded cluster of the data folder. */
  embedded: boolean;
  /** Stops the embedded cluster when this process started it; otherwise does nothing. */
  stop(): Promise<void>;
};

export async function openAppDatabase(options: {
  databaseUrl?: string;
  dataDir: string;
  persistent?: boolean;
  log?: (line: string) => void;
}): Promise<AppDatabase> {
  const log = options.log ?? (() => {});
  let database: AppDatabase;
  if (options.databaseUrl) {
    database = { url: options.databaseUrl, embedded: false, stop: async () => {} };
  } else {
    const pg = await startEmbeddedPostgres(options.dataDir, { persistent: options.persistent });
    log(pg.owned ? `started the embedded PostgreSQL on port ${pg.port}` : `joined the running embedded PostgreSQL on port ${pg.port}`);
    database = { url: pg.url, embedded: true, stop: pg.stop };
  }
  try {
    await migrateDatabase(database.url, { log });
  } catch (err) {
    await database.stop();
    throw err;
  }
  return database;
}
