/**
 * A node-postgres pool for the ledger's hot paths, which are single SQL statements (calls of the ledger's
 * database functions) where Prisma's query layer would only add latency. Created on first use from
 * DATABASE_URL, one per process, like the Prisma client.
 */
import pg from 'pg';

// int8 values arrive as strings by default; the ledger reads them as bigint itself, never as numbers.
export type PgPool = pg.Pool;

const holder = globalThis as unknown as { __creditsPg?: pg.Pool };

/**
 * How long a pooled connection may sit idle before it is closed: minutes, not node-postgres' 10 seconds. A
 * new connection costs a TCP and SCRAM handshake (several milliseconds of CPU on both sides), which the first
 * requests after a quiet spell would otherwise pay on every cache refresh they wait for. Idle connections do
 * not keep a process from exiting.
 */
export const IDLE_CONNECTIONS = { idleTimeoutMillis: 5 * 60_000, allowExitOnIdle: true } as const;

export function createPgPool(url: string, size = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, ...IDLE_CONNECTIONS });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/** The process's pool when one was created, without creating it (for metrics). */
export function peekPgPool(): pg.Pool | undefined {
  return holder.__creditsPg;
}

export function getPgPool(): pg.Pool {
  if (!holder.__creditsPg) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set: start the app with `npm start` or set it');
    holder.__creditsPg = createPgPool(url, Number(process.env.DATABASE_POOL_SIZE ?? 10) || 10);
  }
  return holder.__creditsPg;
}
