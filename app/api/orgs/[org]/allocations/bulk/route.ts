/**
 * POST /api/orgs/{org}/allocations/bulk: one chunk of a bulk allocation upload, `{upload_id, rows: [{row, user,
 * amount}]}`, at most BULK_CHUNK_SIZE rows. Each row is its own allocation from the pool, keyed by upload id and
 * row number, so a chunk sent again (after a timeout, say) answers the first results instead of allocating
 * twice. A row that fails (unknown member, not enough credits in the pool) does not stop the others.
 */
import { z } from 'zod';
import { BULK_CHUNK_SIZE, type BulkAllocationResult } from '@/app/(dashboard)/[org]/users/allocation-csv';
import { db } from '@/lib/db/client';
import { AppError, isAppError } from '@/lib/http/errors';
import { json, readJson } from '@/lib/http/route';
import { withSession } from '@/lib/http/with-session';
import { getLedgerContext } from '@/lib/ledger/context';
import { allocateCredits } from '@/lib/ledger/credits';
import { requestHash } from '@/lib/ledger/metering';
import { InvalidAmountError, parseCredits } from '@/lib/money/credits';

const bodySchema = z
  .object({
    upload_id: z.uuid(),
    rows: z
      .array(
        z.object({
          row: z.number().int().min(1).max(1_000_000),
          user: z.string().trim().min(1).max(200),
          amount: z.string().trim().min(1).max(40),
        }),
      )
      .min(1)
      .max(BULK_CHUNK_SIZE),
  })
  .refine((body) => new Set(body.rows.map((r) => r.row)).size === body.rows.length, {
    message: 'row numbers must be unique within a chunk',
    path: ['rows'],
  });

function parseAmount(value: string): bigint {
  try {
    const micros = parseCredits(value);
    if (micros === 0n) throw new AppError('validation_failed', 'Amount must be greater than 0');
    return micros;
  } catch (err) {
    if (err instanceof InvalidAmountError) {
      throw new AppError('validation_failed', `Amount ${err.message}`);
    }
    throw err;
  }
}

export const POST = withSession<{ org: string }>('pool:manage', async (req, ctx) => {
  // JSON only: a cross-site form or no-preflight request cannot send this content type.
  if (!(req.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    throw new AppError('bad_request', 'Send the rows as JSON (content-type: application/json)');
  }
  const body = await readJson(req, bodySchema);
  const orgId = ctx.org.id;
  const ledger = getLedgerContext();
  const actor = { type: 'user', userId: ctx.user.id } as const;

  // An email is no ledger reference: find the members with these emails in this org, in one query.
  const emails = [...new Set(body.rows.filter((r) => r.user.includes('@')).map((r) => r.user.toLowerCase()))];
  const members = emails.length
    ? await db.membership.findMany({
        where: { orgId, user: { email: { in: emails } } },
        select: { userId: true, user: { select: { email: true } } },
      })
    : [];
  const userIdByEmail = new Map(members.map((m) => [m.user.email as string, m.userId]));

  const results: BulkAllocationResult[] = [];
  // One row after another, in file order: rows draw from the same pool, so the order decides which fail
  // when it runs short, and it should be the order of the file.
  for (const r of body.rows) {
    try {
      const amount = parseAmount(r.amount);
      // Not an email of a member: the ledger resolves it as a user id or external id (or answers not found).
      const userRef = userIdByEmail.get(r.user.toLowerCase()) ?? r.user;
      const moved = await allocateCredits(ledger, orgId, { user: userRef, amount }, actor, {
        key: `bulk-allocation:${body.upload_id}:${r.row}`,
        hash: requestHash({ user: r.user, amount }),
      });
      results.push({
        row: r.row,
        ok: true,
        user_id: moved.to_user as string,
        amount: moved.amount,
        balance: { available: moved.to_balance.available, reserved: moved.to_balance.reserved },
      });
    } catch (err) {
      if (!isAppError(err)) throw err;
      results.push({ row: r.row, ok: false, error: { code: err.code, message: err.message } });
    }
  }
  return json({ upload_id: body.upload_id, results });
});
