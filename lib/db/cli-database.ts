/**
 * The admin CLI's database: the same one `npm start` uses (DATABASE_URL from the environment or .env files,
 * else the embedded cluster of DATA_DIR), whether or not the server is running.
 */
import nextEnv from '@next/env';
import { openAppDatabase } from './app-database.ts';
import { createDb, type Db } from './client.ts';
import { parseEnv } from '../env.ts';

export async function openCliDatabase(): Promise<{ db: Db; url: string; close(): Promise<void> }> {
  nextEnv.loadEnvConfig(process.cwd(), false, { info: () => {}, error: console.error });
  const env = parseEnv(process.env);
  const database = await openAppDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
  const db = createDb(database.url, { poolSize: 2 });
  return {
    db,
    url: database.url,
    close: async () => {
      await db.$disconnect();
      await database.stop();
    },
  };
}
