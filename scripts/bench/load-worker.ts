/**
 * The benchmarks' load generator, run as a child process (fork with IPC) so its CPU is its own process's and
 * its timers are not delayed by the parent. Receives one LoadJob, runs it, sends back a LoadReport and exits.
 */
import { HttpConnection } from './http-client.ts';

export type LoadJob = {
  port: number;
  key: string;
  clients: number;
  seconds: number;
} & (
  | { kind: 'pairs'; users: number; hot: boolean }
  | { kind: 'batch'; users: number; batchSize: number; prefix: string }
);

export type LoadReport = { count: number; errors: string[]; elapsedMs: number; latencies: number[] };

async function run(job: LoadJob): Promise<LoadReport> {
  const headers = { authorization: `Bearer ${job.key}`, 'content-type': 'application/json' };
  const latencies: number[] = [];
  const errors: string[] = [];
  const started = performance.now();
  const end = started + job.seconds * 1000;
  const fail = (message: string) => {
    if (errors.length < 5) errors.push(message);
  };
  await Promise.all(
    Array.from({ length: job.clients }, async (_, client) => {
      const conn = new HttpConnection('127.0.0.1', job.port, headers);
      try {
        for (let i = 0; performance.now() < end; i++) {
          const t0 = performance.now();
          if (job.kind === 'pairs') {
            const user = job.hot ? 'user0' : `user${(client * 7919 + i * 104729) % job.users}`;
            const r = await conn.request('POST', '/api/v1/reservations', `{"user":"${user}","amount":"1"}`);
            if (r.status !== 201) {
              fail(`reserve ${r.status} ${r.body.slice(0, 200)}`);
              continue;
            }
            const id = (JSON.parse(r.body) as { id: string }).id;
            const c = await conn.request('POST', `/api/v1/reservations/${id}/commit`, '{"amount":"0.5"}');
            if (c.status !== 200) {
              fail(`commit ${c.status} ${c.body.slice(0, 200)}`);
              continue;
            }
          } else {
            const events = Array.from({ length: job.batchSize }, (_, j) => ({
              id: `${job.prefix}-${client}-${i}-${j}`,
              user: `user${j % job.users}`,
              amount: '0.001',
            }));
            const r = await conn.request('POST', '/api/v1/usage/batch', JSON.stringify({ events }));
            const charged = r.status === 200 ? (JSON.parse(r.body) as { summary: { charged: number } }).summary.charged : -1;
            if (charged !== job.batchSize) {
              fail(`batch ${r.status} charged ${charged} ${r.body.slice(0, 200)}`);
              continue;
            }
          }
          latencies.push(performance.now() - t0);
        }
      } catch (err) {
        fail((err as Error).message);
      } finally {
        conn.close();
      }
    }),
  );
  return { count: latencies.length, errors, elapsedMs: performance.now() - started, latencies };
}

process.once('message', (job: LoadJob) => {
  run(job).then(
    (report) => process.send!(report, () => process.exit(0)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
});
