/**
 * npm run bench:proxy — the latency the OpenAI-compatible proxy adds to a call, against calling the upstream
 * directly.
 *
 * Starts a throwaway embedded PostgreSQL, the local fake upstream in a process of its own (a real upstream is
 * another machine), and in another process the proxy (its request flow served on 127.0.0.1 with ephemeral
 * ports as the production server serves it: holds from leases priced at the catalog price of gpt-4o-mini, rate
 * limits admitted from claimed capacity, every request charged with its usage record), seeds one funded
 * org, then sends chat completions open-loop (paced at a fixed rate whatever the answers do, so slow
 * answers cannot hide queueing) at each rate for a bounded time: directly to the upstream and through the
 * proxy, non-streaming and streaming (time to the last byte), and through a bare relay in the proxy's process
 * (one more HTTP hop and nothing else: the floor on this machine). Latency is measured from the moment each
 * request was due. Each case runs in rounds, the three targets in turn in each round, so that each is measured
 * at several moments and a pause of the machine does not fall on one target alone. Prints p50 and p99 per
 * case over its rounds together (and the proxy's p99 in each round), what the proxy added to the direct call,
 * and what it added to the bare relay (its own cost).
 *
 * The fake upstream shares this machine's cores with the proxy, PostgreSQL and the load generator, so it
 * answers more slowly while the proxy is under load than in the direct rounds; a real upstream is elsewhere.
 * To show how much, a tenth of the rate goes straight to the upstream during each proxy round: the column
 * "direct alongside" is that sample's p99 and its slowest call.
 *
 *   tsx scripts/bench-proxy.ts [--seconds 3] [--rounds 3] [--rates 100,500]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

process.env.LOG_LEVEL ??= 'warn';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const SECONDS = Math.min(5, Number(argValue('seconds', '3')));
const ROUNDS = Math.max(1, Number(argValue('rounds', '3')));
const RATES = argValue('rates', '100,500').split(',').map(Number);
const USERS = 50;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Fires `send` at `rate` per second for `seconds`, each call timed from when it was due. */
async function openLoop(rate: number, seconds: number, send: (i: number) => Promise<void>) {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 20;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    calls.push(
      send(i).then(
        () => void latencies.push(performance.now() - due),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(calls);
  return { latencies, errors, count: total };
}

type Run = Awaited<ReturnType<typeof openLoop>>;

/** p50, p99 and the slowest over the runs' latencies together, and the p99 of each run. */
function summarize(runs: Run[]) {
  const pooled = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const p99s = runs.map((r) => percentile([...r.latencies].sort((a, b) => a - b), 99));
  return {
    p50: percentile(pooled, 50),
    p99: percentile(pooled, 99),
    max: pooled.length > 0 ? pooled[pooled.length - 1] : Number.NaN,
    p99s,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    count: runs.reduce((n, r) => n + r.count, 0),
  };
}

/** The JSON line a child process prints once it listens. */
function firstLine<T>(child: ChildProcess, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as T);
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

async function main() {
  const { openAppDatabase } = await import('../lib/db/app-database.ts');
  const { createDb } = await import('../lib/db/client.ts');
  const { createApiKey } = await import('../lib/auth/api-keys.ts');
  const { createOrg } = await import('../lib/orgs/orgs.ts');
  const { createUser } = await import('../lib/users/create-user.ts');
  const { grantCredits } = await import('../lib/ledger/credits.ts');
  const { saveProxySettings } = await import('../lib/proxy/settings.ts');
  const { pgRunner } = await import('../lib/ledger/apply.ts');
  const { createPgPool } = await import('../lib/db/pg.ts');

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'credits-bench-proxy-'));
  const database = await openAppDatabase({ dataDir, persistent: false });
  const db = createDb(database.url, { poolSize: 10 });
  const system = { type: 'system' } as const;
  const pool = createPgPool(database.url, 2);
  const ctx = { db, run: pgRunner(pool) };
  const upstream = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../lib/proxy/testing/fake-upstream-server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const { baseUrl: upstreamUrl } = await firstLine<{ baseUrl: string }>(upstream, 'the fake upstream');
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../lib/proxy/testing/proxy-server.ts'), database.url, upstreamUrl], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const urls = await firstLine<{ baseUrl: string; upstreamUrl: string; relayUrl: string }>(server, 'the proxy server');
  // The proxy settles streams after answering; give the last settlements time before the next case.
  const settle = () => new Promise((r) => setTimeout(r, 500));
  try {
    console.log(`Seeding one org with ${USERS} funded members...`);
    const org = await createOrg(db, { slug: 'bench', name: 'Bench' }, system);
    const { key } = await createApiKey(db, { orgId: org.id, name: 'bench', scopes: ['meter'] }, system);
    for (let u = 0; u < USERS; u++) {
      await createUser(db, { externalId: `user${u}`, org: { id: org.id, role: 'member' } }, system);
      await grantCredits(ctx, org.id, { user: `user${u}`, amount: 1_000_000_000_000n, reason: 'Bench' }, system);
    }
    // Limits high enough never to refuse, so every request still counts in PostgreSQL.
    const high = 1_000_000_000;
    await saveProxySettings(
      db,
      org.id,
      { keyRequestsPerMinute: high, keyTokensPerMinute: high, keyConcurrentRequests: high, userRequestsPerMinute: high, userTokensPerMinute: high, userConcurrentRequests: high, degradation: 'fail_closed', failOpenUserCap: '0' },
      system,
    );

    const body = (i: number, stream: boolean) =>
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say something short.' }], max_tokens: 12, user: `user${i % USERS}`, stream });
    const call = async (url: string, auth: string, i: number, stream: boolean) => {
      const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' }, body: body(i, stream) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`status ${res.status}`);
    };
    const targets = {
      direct: (i: number, stream: boolean) => call(urls.upstreamUrl, 'sk-upstream', i, stream),
      relay: (i: number, stream: boolean) => call(urls.relayUrl, 'sk-upstream', i, stream),
      proxy: (i: number, stream: boolean) => call(urls.baseUrl, key, i, stream),
    };

    console.log('Warming up...');
    // At the highest rate measured: code paths the server first runs under that load are compiled meanwhile
    // (a cold server answered its first seconds at 500 requests/s in up to 2 s), not during a measured case.
    const warmRate = Math.max(...RATES);
    for (const target of [targets.proxy, targets.direct, targets.relay]) await openLoop(warmRate, 2, (i) => target(i, i % 2 === 0));
    await settle();

    const rows: string[][] = [];
    for (const rate of RATES) {
      for (const stream of [false, true]) {
        // Rounds of the three in turn: each is measured at several moments.
        const runs = { direct: [] as Run[], relay: [] as Run[], proxy: [] as Run[], alongside: [] as Run[] };
        for (let round = 0; round < ROUNDS; round++) {
          runs.direct.push(await openLoop(rate, SECONDS, (i) => targets.direct(i, stream)));
          runs.relay.push(await openLoop(rate, SECONDS, (i) => targets.relay(i, stream)));
          const [proxied, alongside] = await Promise.all([
            openLoop(rate, SECONDS, (i) => targets.proxy(i, stream)),
            openLoop(rate / 10, SECONDS, (i) => targets.direct(i, stream)),
          ]);
          runs.proxy.push(proxied);
          runs.alongside.push(alongside);
          await settle();
        }
        const [direct, relayed, proxied, alongside] = [summarize(runs.direct), summarize(runs.relay), summarize(runs.proxy), summarize(runs.alongside)];
        const ms = (v: number) => v.toFixed(2);
        rows.push([
          `${rate}/s`,
          stream ? 'stream' : 'json',
          `${ms(direct.p50)} / ${ms(direct.p99)}`,
          `${ms(relayed.p50)} / ${ms(relayed.p99)}`,
          `${ms(proxied.p50)} / ${ms(proxied.p99)}`,
          `${ms(proxied.p50 - direct.p50)} / ${ms(proxied.p99 - direct.p99)}`,
          `${ms(proxied.p50 - relayed.p50)} / ${ms(proxied.p99 - relayed.p99)}`,
          proxied.p99s.map(ms).join(', '),
          `${ms(alongside.p99)} / ${ms(alongside.max)}`,
          `${direct.errors + relayed.errors + proxied.errors + alongside.errors}/${direct.count + relayed.count + proxied.count + alongside.count}`,
        ]);
      }
    }
    const header = ['rate', 'kind', 'direct p50/p99', 'relay p50/p99', 'proxy p50/p99', 'added to direct', 'added to relay', 'proxy p99 by round', 'direct alongside p99/max', 'errors'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
    console.log(`\nLatency in ms, ${ROUNDS} rounds of ${SECONDS} s per case, open-loop, loopback only\n`);
    console.log(line(header));
    for (const row of rows) console.log(line(row));
  } finally {
    server.stdin.end();
    await new Promise((r) => server.once('exit', r));
    upstream.stdin.end();
    await new Promise((r) => upstream.once('exit', r));
    await pool.end();
    await db.$disconnect();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
