/**
 * One process of a multi-process rate-limit race (twoProcessRace in rate-limit-cases.ts):
 *
 *   node --import tsx lib/proxy/testing/admit-burst.ts <database url> <limits json> <subject json> <count> [claimed]
 *
 * Opens its own pool, prints `ready`, waits for `go` on stdin, then asks for `count` admissions at once
 * (keeping every admitted slot) and prints {"admitted": n, "refused": m}. With `claimed`, the limiter admits from
 * claimed capacity (claimed-rate-limits.ts) instead of counting each request in the database.
 */
import { createInterface } from 'node:readline';
import { createPgPool } from '../../db/pg.ts';
import { isAppError } from '../../http/errors.ts';
import { pgRunner } from '../../ledger/apply.ts';
import { ClaimedRateLimiter } from '../claimed-rate-limits.ts';
import { ProxyRateLimiter } from '../rate-limits.ts';

async function main(): Promise<void> {
  const [url, limitsJson, subjectJson, countText, kind] = process.argv.slice(2);
  const count = Number(countText);
  if (!url || !limitsJson || !subjectJson || !Number.isInteger(count)) throw new Error('usage: admit-burst.ts <url> <limits> <subject> <count>');
  const pool = createPgPool(url, 8);
  const limiter = kind === 'claimed' ? new ClaimedRateLimiter(pgRunner(pool)) : new ProxyRateLimiter(pgRunner(pool));
  try {
    await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1')));
    const lines = createInterface({ input: process.stdin });
    const go = new Promise<void>((resolve) => lines.on('line', (line) => line.trim() === 'go' && resolve()));
    process.stdout.write('ready\n');
    await go;
    lines.close();
    const results = await Promise.all(
      Array.from({ length: count }, () =>
        limiter.admit(JSON.parse(limitsJson), JSON.parse(subjectJson), 1).then(
          () => true,
          (err: unknown) => {
            if (isAppError(err) && err.code === 'rate_limited') return false;
            throw err;
          },
        ),
      ),
    );
    const admitted = results.filter(Boolean).length;
    process.stdout.write(`${JSON.stringify({ admitted, refused: count - admitted })}\n`);
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
