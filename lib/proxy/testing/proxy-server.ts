/**
 * The test proxy (proxy-harness.ts) in a process of its own, for benchmarks that must not share an event loop
 * with their load generator:
 *
 *   node --import tsx lib/proxy/testing/proxy-server.ts <database url>
 *
 * Prints one JSON line {"baseUrl": ..., "upstreamUrl": ...} when it listens (127.0.0.1, ephemeral ports) and
 * stops when its stdin closes.
 */
import { createDb } from '../../db/client.ts';
import { startTestProxy } from './proxy-harness.ts';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: proxy-server.ts <database url>');
  const db = createDb(url, { poolSize: 5 });
  const proxy = await startTestProxy(db, url, { poolSize: 20 });
  process.stdout.write(`${JSON.stringify({ baseUrl: proxy.baseUrl, upstreamUrl: proxy.fake.baseUrl })}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await proxy.close();
    await db.$disconnect();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
