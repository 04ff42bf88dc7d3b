/**
 * The server the Playwright journeys run against: a throwaway embedded PostgreSQL, migrated and seeded with the
 * demo data, and the production build on http://127.0.0.1:3100 (E2E_PORT), whose default LLM upstream is a local
 * OpenAI-compatible server (lib/proxy/testing/fake-upstream.ts). The demo admin's sign-in and the database URL
 * go to test-results/e2e-credentials.json for the specs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAppDatabase } from '../lib/db/app-database.ts';
import { createDb } from '../lib/db/client.ts';
import { startFakeUpstream } from '../lib/proxy/testing/fake-upstream.ts';
import { seedDemo } from '../prisma/seed.ts';
import { buildAppOnce, buildIsStale, startNext, superviseServer, waitForHealth } from './server-runtime.ts';

async function main() {
  const port = Number(process.env.E2E_PORT ?? 3100);
  const host = '127.0.0.1';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'credits-e2e-'));
  const database = await openAppDatabase({ dataDir, persistent: false });
  const db = createDb(database.url, { poolSize: 2 });
  const demo = await seedDemo(db);
  await db.$disconnect();
  const upstream = await startFakeUpstream({ apiKey: 'sk-e2e-upstream' });

  mkdirSync('test-results', { recursive: true });
  writeFileSync(
    'test-results/e2e-credentials.json',
    `${JSON.stringify({ ...demo, databaseUrl: database.url, baseUrl: `http://${host}:${port}` }, null, 2)}\n`,
  );

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    NEXTAUTH_URL: `http://${host}:${port}`,
    NEXTAUTH_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e-secret',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    LLM_UPSTREAM_BASE_URL: upstream.baseUrl,
    LLM_UPSTREAM_API_KEY: 'sk-e2e-upstream',
  };
  if (buildIsStale()) await buildAppOnce(env);
  const child = startNext('start', { host, port, env });
  superviseServer(child, async () => {
    await upstream.close();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await waitForHealth(`http://${host}:${port}/api/health`, child);
  console.log(`e2e server ready on http://${host}:${port}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
