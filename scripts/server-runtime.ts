/**
 * What `npm start`, `npm run dev` and the end-to-end test server share: secrets kept in the data folder, the
 * production build (made when missing or older than the sources), the Next.js server as a child process, and
 * waiting for /api/health.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const NEXT_BIN = path.resolve('node_modules/next/dist/bin/next');
const SOURCE_ROOTS = ['app', 'components', 'lib', 'public', 'prisma/schema.prisma', 'next.config.ts', 'package.json', 'postcss.config.mjs'];

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(entry, { withFileTypes: true })) {
    if (child.name === 'generated' || child.name.startsWith('.')) continue;
    if (child.name.endsWith('.test.ts')) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, child.name)));
  }
  return newest;
}

/** True when there is no production build, or a source file changed after it was made. */
export function buildIsStale(): boolean {
  const buildId = path.resolve('.next/BUILD_ID');
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  return SOURCE_ROOTS.some((root) => newestMtime(path.resolve(root)) > built);
}

const BUILD_LOCK = path.resolve('.next-build.lock');
const STALE_LOCK_MS = 15 * 60_000;

/**
 * Builds the app, one process at a time: instances starting together on one checkout take turns through a
 * lock folder, and a process that waited finds the build fresh and skips it.
 */
export async function buildAppOnce(env: NodeJS.ProcessEnv): Promise<void> {
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      if (existsSync(BUILD_LOCK) && Date.now() - statSync(BUILD_LOCK).mtimeMs > STALE_LOCK_MS) {
        rmSync(BUILD_LOCK, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!buildIsStale()) return;
    console.log('Building the app (first start, or the sources changed)...');
    const result = spawnSync(process.execPath, [NEXT_BIN, 'build'], { stdio: 'inherit', env });
    if (result.status !== 0) throw new Error('next build failed');
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

const SERVE_SCRIPT = path.resolve('scripts/serve.ts');

/** `start`: the production server (scripts/serve.ts: Next plus the direct metering dispatch); `dev`: next dev. */
export function startNext(mode: 'start' | 'dev', options: { host: string; port: number; env: NodeJS.ProcessEnv }): ChildProcess {
  const args =
    mode === 'start'
      ? ['--import', 'tsx', SERVE_SCRIPT, '-H', options.host, '-p', String(options.port)]
      : [NEXT_BIN, 'dev', '-H', options.host, '-p', String(options.port)];
  return spawn(process.execPath, args, { stdio: 'inherit', env: options.env });
}

/** Resolves once GET /api/health answers 200; rejects when the child exits first or time runs out. */
export async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error('The server exited before it became healthy');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`The server did not become healthy within ${timeoutMs / 1000}s`);
}

/** Stops the child and then the database on Ctrl-C or SIGTERM, and when the child dies. */
export function superviseServer(child: ChildProcess, stopDatabase: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await stopDatabase().catch(() => {});
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  child.on('exit', (code) => void shutdown(code ?? 1));
}
