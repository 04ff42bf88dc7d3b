/**
 * npm run bench:ledger — the metering hot path under load, against a raw-SQL baseline on the same database.
 *
 * Starts a throwaway embedded PostgreSQL and the production server, seeds one org with 1,000 funded members
 * and measures, at 1, 8, 32 and 64 concurrent clients:
 *   baseline  one conditional UPDATE per step (reserve: avail -= hold WHERE avail >= hold; commit: give back
 *             the unused part) on a plain table, straight through node-postgres;
 *   api       POST /api/v1/reservations then POST /api/v1/reservations/{id}/commit over HTTP;
 * on one hot user and spread over 1,000 users; then batch usage ingestion (POST /api/v1/usage/batch with
 * 1,000 events, from --batch-clients concurrent senders, against one conditional UPDATE per event from as many
 * clients). Prints tables of pairs/s (p50/p99 latency of a pair) and events/s (p50/p99 of a batch), each with
 * its ratio to the baseline. The HTTP load comes from a separate process with a minimal client
 * (scripts/bench/load-worker.ts), so the generator costs the server as little as possible.
 *
 *   tsx scripts/bench-ledger.ts [--seconds 5] [--clients 1,8,32,64] [--batch-clients 4]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApiKey } from '../lib/auth/api-keys.ts';
import { openAppDatabase } from '../lib/db/app-database.ts';
import { createDb } from '../lib/db/client.ts';
import type { LoadJob, LoadReport } from './bench/load-worker.ts';
import { buildAppOnce, buildIsStale, startNext, waitForHealth } from './server-runtime.ts';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const SECONDS = Number(argValue('seconds', '5'));
const CLIENTS = argValue('clients', '1,8,32,64').split(',').map(Number);
const USERS = 1000;
const BATCH_CLIENTS = Number(argValue('batch-clients', '4'));
const PORT = Number(process.env.BENCH_PORT ?? 3400);
const BASE = `http://127.0.0.1:${PORT}`;

type Result = { name: string; target: 'hot' | 'spread'; clients: number; perSecond: number; p50: number; p99: number };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `step` from `clients` concurrent loops for the duration; returns completed steps/s and latencies. */
async function load(clients: number, seconds: number, step: (client: number, i: number) => Promise<void>) {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        try {
          await step(client, i);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (errors <= 3) console.error(`  step failed: ${(err as Error).message}`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/** Runs `job` in a separate load-generator process (scripts/bench/load-worker.ts), so it steals no time from this one. */
function loadOverHttp(job: LoadJob): Promise<{ perSecond: number; p50: number; p99: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(path.resolve('scripts/bench/load-worker.ts'), [], { execArgv: ['--import', 'tsx'] });
    child.once('message', (report: LoadReport) => {
      for (const message of report.errors.slice(0, 3)) console.error(`  step failed: ${message}`);
      const sorted = report.latencies.sort((a, b) => a - b);
      resolve({
        perSecond: report.count / (report.elapsedMs / 1000),
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        errors: report.errors.length,
      });
    });
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
    child.send(job);
  });
}

async function seed(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const org = (await client.query(`INSERT INTO orgs (id, slug, name, updated_at) VALUES (gen_random_uuid(), 'bench', 'Bench', now()) RETURNING id`)).rows[0].id as string;
  await client.query(`
    WITH u AS (
      INSERT INTO users (id, email, updated_at)
      SELECT gen_random_uuid(), 'user' || i || '@bench.test', now() FROM generate_series(0, $2 - 1) i RETURNING id, email)
    INSERT INTO memberships (id, org_id, user_id, role, external_id, updated_at)
    SELECT gen_random_uuid(), $1::uuid, u.id, 'member', split_part(u.email, '@', 1), now() FROM u`, [org, USERS]);
  const pool = (await client.query('SELECT ledger_ensure_org_accounts($1::uuid) AS pool', [org])).rows[0].pool as string;
  const accounts = (await client.query(`SELECT ledger_user_account($1::uuid, m.id) AS id FROM memberships m WHERE m.org_id = $1::uuid`, [org])).rows.map((r) => r.id as string);
  // A large budget everywhere, so no step fails for lack of credits.
  await client.query(`SELECT ledger_apply($1::uuid, $2::jsonb)`, [org, JSON.stringify([{ type: 'grant', account_id: pool, amount: '1000000000000000000', source: 'purchase' }])]);
  for (let i = 0; i < accounts.length; i += 200) {
    const ops = accounts.slice(i, i + 200).map((a) => ({ type: 'move', kind: 'allocation', from_account_id: pool, to_account_id: a, amount: '100000000000000' }));
    await client.query(`SELECT ledger_apply($1::uuid, $2::jsonb)`, [org, JSON.stringify(ops)]);
  }
  await client.query(`CREATE TABLE bench_baseline (id int PRIMARY KEY, avail bigint NOT NULL)`);
  await client.query(`INSERT INTO bench_baseline SELECT i, 100000000000000 FROM generate_series(0, $1 - 1) i`, [USERS]);
  // Statistics of the tables just loaded, as after any bulk load. The tables that start empty (reservations,
  // usage events) are left to autovacuum, as on a fresh install: analyzed while empty they would be planned as
  // empty until its next pass.
  await client.query('ANALYZE users, memberships, orgs, ledger_accounts, credit_lots, ledger_transactions, ledger_entries, bench_baseline');
  await client.end();
  const db = createDb(url, { poolSize: 2 });
  const { key } = await createApiKey(db, { orgId: org, name: 'bench', scopes: ['meter'] }, { type: 'system' });
  await db.$disconnect();
  return { org, key };
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'credits-bench-'));
  const database = await openAppDatabase({ dataDir, persistent: false });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '24',
    NEXTAUTH_URL: BASE,
    NEXTAUTH_SECRET: 'bench-secret-bench-secret-bench-secret-bench',
    LOG_LEVEL: 'warn',
  };
  if (buildIsStale()) await buildAppOnce(env);
  console.log('Seeding 1,000 funded members...');
  const { key } = await seed(database.url);
  const server = startNext('start', { host: '127.0.0.1', port: PORT, env });
  const results: Result[] = [];
  try {
    await waitForHealth(`${BASE}/api/health`, server);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const post = async (p: string, body: unknown) => {
      const res = await fetch(`${BASE}${p}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${p} ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    // Warm-up: compile routes, fill caches and pools.
    await load(4, 1, async (c) => {
      const r = await post('/api/v1/reservations', { user: `user${c}`, amount: '1' });
      await post(`/api/v1/reservations/${r.id}/commit`, { amount: '0.5' });
    });

    const basePool = new pg.Pool({ connectionString: database.url, max: Math.max(...CLIENTS) });
    for (const target of ['hot', 'spread'] as const) {
      for (const clients of CLIENTS) {
        const pick = (c: number, i: number) => (target === 'hot' ? 0 : (c * 7919 + i * 104729) % USERS);
        const base = await load(clients, SECONDS, async (c, i) => {
          const id = pick(c, i);
          const r = await basePool.query('UPDATE bench_baseline SET avail = avail - 1000000 WHERE id = $1 AND avail >= 1000000 RETURNING avail', [id]);
          if (r.rowCount !== 1) throw new Error('baseline reserve failed');
          await basePool.query('UPDATE bench_baseline SET avail = avail + 500000 WHERE id = $1', [id]);
        });
        results.push({ name: 'baseline', target, clients, ...base });
        const api = await loadOverHttp({ kind: 'pairs', port: PORT, key, clients, seconds: SECONDS, users: USERS, hot: target === 'hot' });
        results.push({ name: 'api', target, clients, ...api });
        console.log(`  ${target} x${clients}: baseline ${base.perSecond.toFixed(0)}/s, api ${api.perSecond.toFixed(0)}/s (${api.errors} errors)`);
      }
    }
    // The batch baseline: each event one conditional UPDATE of its user's row, from as many clients.
    const batchBase = await load(BATCH_CLIENTS, SECONDS, async (c, i) => {
      const r = await basePool.query('UPDATE bench_baseline SET avail = avail - 1000 WHERE id = $1 AND avail >= 1000 RETURNING avail', [(c * 7919 + i * 104729) % USERS]);
      if (r.rowCount !== 1) throw new Error('baseline event failed');
    });
    await basePool.end();

    // Batch ingestion: 1,000 events per request across the 1,000 users, after one warm-up batch (member
    // lookups are cached by the server after the first).
    await post('/api/v1/usage/batch', { events: Array.from({ length: 1000 }, (_, j) => ({ id: `warm-${j}`, user: `user${j % USERS}`, amount: '0.001' })) });
    const batch = await loadOverHttp({ kind: 'batch', port: PORT, key, clients: BATCH_CLIENTS, seconds: SECONDS * 2, users: USERS, batchSize: 1000, prefix: 'b' });

    console.log('\nreserve+commit pairs per second (p50 / p99 latency of a pair, ms)');
    console.log('| target | clients | baseline pairs/s | api pairs/s | ratio | api p50 | api p99 | baseline p50 | baseline p99 |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const target of ['hot', 'spread'] as const) {
      for (const clients of CLIENTS) {
        const b = results.find((r) => r.name === 'baseline' && r.target === target && r.clients === clients)!;
        const a = results.find((r) => r.name === 'api' && r.target === target && r.clients === clients)!;
        console.log(
          `| ${target === 'hot' ? 'one hot user' : '1,000 users'} | ${clients} | ${b.perSecond.toFixed(0)} | ${a.perSecond.toFixed(0)} | ${(a.perSecond / b.perSecond).toFixed(2)}x | ${a.p50.toFixed(1)} | ${a.p99.toFixed(1)} | ${b.p50.toFixed(1)} | ${b.p99.toFixed(1)} |`,
        );
      }
    }
    const events = batch.perSecond * 1000;
    console.log('\nusage events per second (api: 1,000-event batches, p50 / p99 ms per batch; baseline: one conditional UPDATE per event)');
    console.log('| workload | clients | baseline events/s | api events/s | ratio | api p50 | api p99 |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(
      `| batch usage ingestion, 1,000 users | ${BATCH_CLIENTS} | ${batchBase.perSecond.toFixed(0)} | ${events.toFixed(0)} | ${(events / batchBase.perSecond).toFixed(2)}x | ${batch.p50.toFixed(0)} | ${batch.p99.toFixed(0)} |`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
