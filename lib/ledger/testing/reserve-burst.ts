/**
 * One process of a multi-process reservation race (lib/ledger/concurrency.db.test.ts):
 *
 *   node --import tsx lib/ledger/testing/reserve-burst.ts <database url> <org id> <user> <count> <micro-credits>
 *
 * Builds its own ledger context (Prisma client, pg pool, coalescer) over the URL, warms it up (member and
 * policy lookups, open connections), prints `ready`, waits for a line `go` on stdin, then sends `count`
 * reservations of the amount at once through the coalescer and prints one JSON line:
 * {"ok": <reserved>, "codes": {<error code>: <count>}, "ids": [<reservation ids>]}.
 */
import { createInterface } from 'node:readline';
import { createDb } from '../../db/client.ts';
import { createPgPool } from '../../db/pg.ts';
import { AppError } from '../../http/errors.ts';
import { resolveMember } from '../accounts.ts';
import { pgRunner } from '../apply.ts';
import { LedgerCoalescer } from '../coalescer.ts';
import type { LedgerContext } from '../context.ts';
import { reserveCredits } from '../metering.ts';
import { getEffectivePolicy } from '../policies.ts';

async function main(): Promise<void> {
  const [url, orgId, user, countText, amountText] = process.argv.slice(2);
  const count = Number(countText);
  if (!url || !orgId || !user || !Number.isInteger(count) || count <= 0 || !/^\d+$/.test(amountText ?? '')) {
    throw new Error('usage: reserve-burst.ts <database url> <org id> <user> <count> <micro-credits>');
  }
  const userRef: string = user;
  const amount = BigInt(amountText);
  const db = createDb(url, { poolSize: 2 });
  const pool = createPgPool(url, 8);
  const run = pgRunner(pool);
  const ctx: LedgerContext = { db, run, coalescer: new LedgerCoalescer(run) };
  try {
    const member = await resolveMember(ctx, orgId, user);
    await getEffectivePolicy(ctx, orgId, member.membershipId);
    await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1')));

    const lines = createInterface({ input: process.stdin });
    const go = new Promise<void>((resolve) => lines.on('line', (line) => line.trim() === 'go' && resolve()));
    process.stdout.write('ready\n');
    await go;
    lines.close();

    const results = await Promise.all(
      Array.from({ length: count }, async (): Promise<{ id: string } | { code: string }> => {
        try {
          return { id: (await reserveCredits(ctx, orgId, { user: userRef, amount }, { type: 'system' })).id };
        } catch (err) {
          if (err instanceof AppError) return { code: err.code };
          throw err;
        }
      }),
    );
    const codes: Record<string, number> = {};
    const ids: string[] = [];
    for (const r of results) {
      if ('id' in r) ids.push(r.id);
      else codes[r.code] = (codes[r.code] ?? 0) + 1;
    }
    process.stdout.write(`${JSON.stringify({ ok: ids.length, codes, ids })}\n`);
  } finally {
    await pool.end();
    await db.$disconnect();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
