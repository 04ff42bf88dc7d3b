/**
 * The production HTTP server (run by `npm start`, the end-to-end tests and the benchmarks; `next dev` serves
 * development): Next.js for pages and most routes, with the metering hot paths and the LLM proxy dispatched
 * directly to their handlers (lib/http/fast-dispatch.ts). Usage: serve.ts -H <host> -p <port>.
 */
import { createServer } from 'node:http';
import next from 'next';
import { createFastDispatch } from '../lib/http/fast-dispatch.ts';
import { meteringFastRoutes } from '../lib/http/metering-routes.ts';
import { proxyFastRoutes } from '../lib/proxy/routes.ts';
import { closeProxy } from '../lib/proxy/runtime.ts';

function option(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const hostname = option('-H', '127.0.0.1');
  const port = Number(option('-p', '3000'));
  const app = next({ dev: false, hostname, port, dir: process.cwd() });
  const handle = app.getRequestHandler();
  await app.prepare();
  const dispatch = createFastDispatch([...meteringFastRoutes, ...proxyFastRoutes], `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`);
  const server = createServer((req, res) => {
    if (dispatch(req, res)) return;
    handle(req, res).catch((err: unknown) => {
      console.error(err);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  });
  // Longer than the usual proxy idle timeouts, so load balancers do not reuse a socket the server just closed.
  server.keepAliveTimeout = 65_000;
  server.listen(port, hostname, () => console.log(`Listening on http://${hostname}:${port}`));
  // Proxied streams still running are settled, and the proxy's leases released, before the process ends.
  const stop = () => server.close(() => void closeProxy().finally(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
