/**
 * `npm start` (production server) and `npm run dev` (development server): validates the configuration, starts
 * or connects to PostgreSQL, applies pending migrations, seeds the price catalog (once per release) and the
 * demo data on the embedded database's first start, builds when needed and serves on http://HOST:PORT.
 */
import nextEnv from '@next/env';
import path from 'node:path';
import { openAppDatabase } from '../lib/db/app-database.ts';
import { createPgPool } from '../lib/db/pg.ts';
import { EnvError, parseEnv } from '../lib/env.ts';
import { startLedgerJobs } from '../lib/jobs/start-jobs.ts';
import { dataDirSecret } from '../lib/ops/data-dir.ts';
import { seedPriceCatalog } from '../lib/pricing/seed-catalog.ts';
import { seedDemoOnce } from '../prisma/seed.ts';
import { buildAppOnce, buildIsStale, startNext, superviseServer, waitForHealth } from './server-runtime.ts';

async function main() {
  const dev = process.argv.includes('--dev');
  nextEnv.loadEnvConfig(process.cwd(), dev, { info: () => {}, error: console.error });
  const env = parseEnv(process.env);
  const dataDir = path.resolve(env.DATA_DIR);
  const baseUrl = env.NEXTAUTH_URL ?? `http://${env.HOST}:${env.PORT}`;

  const database = await openAppDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir,
    log: (line) => console.log(`[credits] ${line}`),
  });
  await seedPriceCatalog(database.url);
  // Only the embedded database gets demo data; a DATABASE_URL server is only migrated.
  const demo = database.embedded ? await seedDemoOnce(database.url, dataDir) : null;

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: dev ? 'development' : 'production',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    NEXTAUTH_URL: baseUrl,
    NEXTAUTH_SECRET: env.NEXTAUTH_SECRET ?? dataDirSecret(dataDir, 'auth-secret'),
  };
  if (!dev && buildIsStale()) await buildAppOnce(childEnv);

  const child = startNext(dev ? 'dev' : 'start', { host: env.HOST, port: env.PORT, env: childEnv });
  const jobsPool = createPgPool(database.url, 3);
  const stopJobs = startLedgerJobs(jobsPool);
  superviseServer(child, async () => {
    stopJobs();
    await jobsPool.end();
    await database.stop();
  });
  await waitForHealth(`http://${env.HOST}:${env.PORT}/api/health`, child);

  console.log(`\nCredits is running at ${baseUrl}`);
  if (demo?.created) {
    console.log(`Demo admin: ${demo.email}  password: ${demo.password}`);
    console.log(`(also written to ${demo.file})`);
  } else if (demo) {
    console.log(`Demo admin sign-in: see ${demo.file}`);
  }
}

main().catch((err) => {
  if (err instanceof EnvError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
