/**
 * The Prisma client of this process, over node-postgres through @prisma/adapter-pg. Created on first use from
 * DATABASE_URL so that importing a module never opens a connection (builds, the CLI and tests choose the URL
 * before first use). Scripts that manage their own database call `createDb(url)`.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { IDLE_CONNECTIONS } from './pg.ts';

export type Db = PrismaClient;
export type { Prisma } from '../generated/prisma/client.ts';

export function createDb(url: string, options: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: url, max: options.poolSize ?? 10, ...IDLE_CONNECTIONS });
  return new PrismaClient({ adapter });
}

const holder = globalThis as unknown as { __creditsDb?: Db };

/** The shared client. Survives hot reloads in development so connections are not leaked. */
export function getDb(): Db {
  if (!holder.__creditsDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set: start the app with `npm start` or set it');
    const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10) || 10;
    holder.__creditsDb = createDb(url, { poolSize });
  }
  return holder.__creditsDb;
}

/** Lazily bound view of `getDb()`, so `import { db }` is safe at module load. */
export const db: Db = new Proxy({} as Db, {
  get(_target, prop) {
    const client = getDb() as unknown as Record<PropertyKey, unknown>;
    const value = client[prop];
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(client) : value;
  },
});
