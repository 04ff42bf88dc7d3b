/**
 * The fake OpenAI-compatible upstream (fake-upstream.ts) in a process of its own, for benchmarks: a real
 * upstream is another machine, so it must not share the proxy's event loop.
 *
 *   node --import tsx lib/proxy/testing/fake-upstream-server.ts
 *
 * Prints one JSON line {"baseUrl": ...} when it listens (127.0.0.1, an ephemeral port) and stops when its
 * stdin closes. It expects the API key sk-upstream.
 */
import { startFakeUpstream } from './fake-upstream.ts';

async function main(): Promise<void> {
  const fake = await startFakeUpstream({ apiKey: 'sk-upstream' });
  process.stdout.write(`${JSON.stringify({ baseUrl: fake.baseUrl })}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await fake.close();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
