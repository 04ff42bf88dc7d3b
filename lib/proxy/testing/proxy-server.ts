/**
 * The test proxy (proxy-harness.ts) in a process of its own, for benchmarks that must not share an event loop
 * with their load generator:
 *
 *   node --import tsx lib/proxy/testing/proxy-server.ts <database url> [<upstream base url>]
 *
 * Prints one JSON line {"baseUrl": ..., "upstreamUrl": ..., "relayUrl": ...} when it listens (127.0.0.1,
 * ephemeral ports) and stops when its stdin closes. The upstream is the fake one at the URL given (another
 * process: fake-upstream-server.ts), else one started in this process. The proxy is the production one: the leased meter
 * (catalog prices, holds from leases, one usage record per request), rate limits admitted from claimed
 * capacity, and the production server's direct dispatch. The relay is
 * a bare forwarder in the same process, served the same way (the request body to the upstream, the answer
 * back as it streams, nothing else): the floor any proxy pays on this machine, to tell the proxy's own cost
 * from the cost of one more HTTP hop.
 */
import { createDb } from '../../db/client.ts';
import { leasedMeter } from '../leased-meter.ts';
import { startTestProxy } from './proxy-harness.ts';
import { serveRoutes } from './serve.ts';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: proxy-server.ts <database url> [<upstream base url>]');
  const db = createDb(url, { poolSize: 5 });
  const proxy = await startTestProxy(db, url, { poolSize: 20, meter: (ctx, journalDir) => leasedMeter(ctx, { journalDir }), claimedLimits: true, direct: true, externalUpstream: process.argv[3] });
  const relay = await serveRoutes({
    '/v1/chat/completions': async (req) => {
      const res = await fetch(`${proxy.fake.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-upstream', 'content-type': 'application/json' },
        body: await req.text(),
        signal: req.signal,
      });
      return new Response(res.body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
    },
  }, { direct: true });
  process.stdout.write(`${JSON.stringify({ baseUrl: proxy.baseUrl, upstreamUrl: proxy.fake.baseUrl, relayUrl: `${relay.url}/v1` })}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await relay.close();
    await proxy.close();
    await db.$disconnect();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
