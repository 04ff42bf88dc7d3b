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
 * its ratio to the baseline.
 *
 * Batch ingestion has a second reference, the floor: what this database alone sustains for the least that
 * charging a usage event must write, as one plain SQL function per lane of a batch (four lanes, as the API
 * splits a batch) from as many clients: one usage record per event (with usage_records' indexes, its event id
 * unique per org) and, per account and lane, one balance update, one lot update and one journal entry, the
 * lane's journal transaction and its consumption entry, and the hourly rollup. No HTTP, no validation, no
 * receipts per event, no answers per event, no idempotency: a bound for any implementation that keeps these
 * rows, on the machine it runs on. The HTTP load comes from a separate process with a minimal client
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

/**
 * The floor's tables (copies of the real ones' columns and indexes where the real ones are written) and its
 * function: one lane of a batch, [{id, account, amount}], accounts being membership ids; returns how many
 * events it charged.
 */
const FLOOR_SQL = `
CREATE TABLE bench_floor_accounts (id uuid PRIMARY KEY, balance bigint NOT NULL) WITH (fillfactor = 50);
CREATE TABLE bench_floor_lots (id uuid PRIMARY KEY, account_id uuid NOT NULL, remaining bigint NOT NULL) WITH (fillfactor = 50);
CREATE TABLE bench_floor_records (LIKE usage_records INCLUDING DEFAULTS, event_id text NOT NULL, request_hash text NOT NULL, lot_id uuid);
ALTER TABLE bench_floor_records ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX ON bench_floor_records (org_id, event_id);
CREATE UNIQUE INDEX ON bench_floor_records (reservation_id);
CREATE INDEX ON bench_floor_records (org_id, occurred_at);
CREATE INDEX ON bench_floor_records (org_id, membership_id, occurred_at);
CREATE INDEX ON bench_floor_records (org_id, model, occurred_at);
CREATE INDEX ON bench_floor_records (org_id, api_key_id, occurred_at);
CREATE TABLE bench_floor_rollups (LIKE usage_rollups_hourly INCLUDING DEFAULTS INCLUDING INDEXES) WITH (fillfactor = 70);
CREATE TABLE bench_floor_transactions (LIKE ledger_transactions INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench_floor_entries (LIKE ledger_entries INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE FUNCTION bench_floor_batch(p_org uuid, p_events jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_txn uuid := gen_random_uuid();
  v_count bigint;
BEGIN
  PERFORM 1 FROM bench_floor_accounts
    WHERE id IN (SELECT (e->>'account')::uuid FROM jsonb_array_elements(p_events) e) ORDER BY id FOR UPDATE;
  WITH ev AS (SELECT x.* FROM jsonb_to_recordset(p_events) AS x(id text, account uuid, amount bigint)),
  fits AS (
    SELECT ev.*, sum(ev.amount) OVER (PARTITION BY ev.account ORDER BY ev.id) AS running, a.balance
      FROM ev JOIN bench_floor_accounts a ON a.id = ev.account),
  recorded AS (
    INSERT INTO bench_floor_records (id, org_id, membership_id, cost, status, metadata, occurred_at, transaction_id,
                                     created_at, event_id, request_hash, lot_id)
    SELECT gen_random_uuid(), p_org, f.account, f.amount, 'ok', '{}', now(), v_txn, now(), f.id, md5(f.id), f.account
      FROM fits f WHERE f.running <= f.balance
    ON CONFLICT (org_id, event_id) DO NOTHING
    RETURNING membership_id, cost),
  totals AS (SELECT membership_id AS account, sum(cost) AS total, count(*) AS n FROM recorded GROUP BY 1),
  balances AS (UPDATE bench_floor_accounts a SET balance = a.balance - t.total FROM totals t WHERE a.id = t.account),
  lots AS (UPDATE bench_floor_lots l SET remaining = l.remaining - t.total FROM totals t WHERE l.id = t.account),
  journal AS (
    INSERT INTO bench_floor_transactions (id, org_id, kind, occurred_at, actor_type, metadata, created_at)
    VALUES (v_txn, p_org, 'charge', now(), 'system', '{}', now())),
  entries AS (
    INSERT INTO bench_floor_entries (transaction_id, org_id, account_id, amount, lot_id, created_at)
    SELECT v_txn, p_org, t.account, -t.total, t.account, now() FROM totals t
    UNION ALL SELECT v_txn, p_org, p_org, sum(t.total), NULL, now() FROM totals t),
  rollups AS (
    INSERT INTO bench_floor_rollups AS r (org_id, hour, membership_id, model, api_key_id, status, requests, cost)
    SELECT p_org, date_trunc('hour', now(), 'UTC'), t.account, '', '00000000-0000-0000-0000-000000000000', 'ok', t.n, t.total
      FROM totals t ORDER BY t.account
    ON CONFLICT (org_id, hour, membership_id, model, api_key_id, status) DO UPDATE
       SET requests = r.requests + EXCLUDED.requests, cost = r.cost + EXCLUDED.cost)
  SELECT coalesce(sum(n), 0) INTO v_count FROM totals;
  RETURN v_count;
END $$;`;

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
  await client.query(FLOOR_SQL);
  await client.query(`INSERT INTO bench_floor_accounts SELECT m.id, 100000000000000 FROM memberships m WHERE m.org_id = $1::uuid`, [org]);
  await client.query(`INSERT INTO bench_floor_lots SELECT m.id, m.id, 100000000000000 FROM memberships m WHERE m.org_id = $1::uuid`, [org]);
  const members = (await client.query(`SELECT id FROM memberships WHERE org_id = $1::uuid ORDER BY external_id`, [org])).rows.map((r) => r.id as string);
  await client.query(`INSERT INTO bench_baseline SELECT i, 100000000000000 FROM generate_series(0, $1 - 1) i`, [USERS]);
  // Statistics of the tables just loaded, as after any bulk load. The tables that start empty (reservations,
  // usage events) are left to autovacuum, as on a fresh install: analyzed while empty they would be planned as
  // empty until its next pass.
  await client.query('ANALYZE users, memberships, orgs, ledger_accounts, credit_lots, ledger_transactions, ledger_entries, bench_baseline, bench_floor_accounts, bench_floor_lots');
  await client.end();
  const db = createDb(url, { poolSize: 2 });
  const { key } = await createApiKey(db, { orgId: org, name: 'bench', scopes: ['meter'] }, { type: 'system' });
  await db.$disconnect();
  return { org, key, members };
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
  const { org, key, members } = await seed(database.url);
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
    // The floor: the same events, each batch in four lanes at once, through the floor function.
    const floor = await load(BATCH_CLIENTS, SECONDS * 2, async (c, i) => {
      const lanes = Array.from({ length: 4 }, () => [] as Array<{ id: string; account: string; amount: number }>);
      for (let j = 0; j < 1000; j++) lanes[j % 4].push({ id: `floor-${c}-${i}-${j}`, account: members[j % USERS], amount: 1000 });
      const counts = await Promise.all(lanes.map((lane) => basePool.query('SELECT bench_floor_batch($1::uuid, $2::jsonb) AS n', [org, JSON.stringify(lane)])));
      if (counts.some((r) => Number(r.rows[0].n) !== 250)) throw new Error('floor batch charged fewer events');
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
    const floorEvents = floor.perSecond * 1000;
    console.log(
      `| floor: the least each event writes, SQL only | ${BATCH_CLIENTS} | ${batchBase.perSecond.toFixed(0)} | ${floorEvents.toFixed(0)} | ${(floorEvents / batchBase.perSecond).toFixed(2)}x | ${floor.p50.toFixed(0)} | ${floor.p99.toFixed(0)} |`,
    );
    console.log(`\nthe api ingests ${((events / floorEvents) * 100).toFixed(0)}% of the floor's events/s`);
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
