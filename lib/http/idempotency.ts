/**
 * The `Idempotency-Key` header of the public API, with Stripe's semantics: a key names one request of an org;
 * repeating it with the same request (method, path and body) answers the stored response, repeating it with
 * another request answers 422 idempotency_mismatch. The stored response is written in the same database
 * transaction as the effect, so a response is stored exactly when its effect happened; rows live at least
 * 24 hours (the upkeep job drops them afterwards).
 *
 * Ledger operations hand the key to the ledger (ledger_apply stores the ledger result with the operation);
 * every other write runs through `withIdempotentEffect`. Keys from the API live in their own namespace
 * (`api:`), apart from the keys the system itself uses (purchases, refills), so a client can never pre-empt
 * or replay one of those.
 */
import type { Db } from '../db/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { prismaRunner } from '../ledger/apply.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { type Idempotency, requestHash } from '../ledger/metering.ts';
import { type Tx, uniqueViolationFields } from '../users/create-user.ts';
import { AppError } from './errors.ts';

export type { Idempotency };

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

// Printable ASCII. Header values arrive trimmed, so a key cannot start or end with a space.
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * The request's idempotency key and hash, or undefined when it has no `Idempotency-Key` header; 400 when the
 * header is not 1 to 255 printable characters. `body` is the parsed body: requests that mean the same thing
 * (`"12.5"` and `"12.50"`) hash alike.
 */
export function readIdempotency(req: Request, body: unknown): Idempotency | undefined {
  const key = req.headers.get(IDEMPOTENCY_HEADER);
  if (key === null) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new AppError('bad_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  return {
    key: `api:${key}`,
    hash: requestHash({ method: req.method.toUpperCase(), path: new URL(req.url).pathname, body }),
  };
}

export type StoredResponse = { status: number; body: unknown };

/**
 * What an effect answers. `replayBody`, when given, is stored instead of `body`: a response carrying a secret
 * (a new API key) is answered once and replayed without it, because secrets are never stored in clear.
 */
export type EffectResponse = StoredResponse & { replayBody?: unknown };

type StoredRow = { requestHash: string; status: number; body: unknown };

const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;

/** Thrown inside the transaction when a concurrent request stored the key first. */
class KeyTaken extends Error {}

function answerFor(stored: StoredRow, idempotency: Idempotency): StoredResponse {
  if (stored.requestHash !== idempotency.hash) {
    throw new AppError('idempotency_mismatch', 'This Idempotency-Key was used with a different request');
  }
  return { status: stored.status, body: stored.body };
}

function findStored(db: Db | Tx, orgId: string, key: string): Promise<StoredRow | null> {
  return db.idempotencyKey.findUnique({
    where: { orgId_key: { orgId, key } },
    select: { requestHash: true, status: true, body: true },
  });
}

/**
 * Runs `effect` in a transaction and, when the request carries a key, stores its response in the same
 * transaction. A repeat gets the stored response without running the effect again. Requests with one key
 * queue on a transaction-scoped advisory lock, so only the first runs the effect and the others find its
 * stored response once it commits; a unique violation on the key (a writer that did not take the lock) rolls
 * the effect back and answers the stored response too.
 *
 * The first response of a stored request is the stored body as read back from the database, so the first
 * answer and every replay are the same bytes.
 */
export async function withIdempotentEffect(
  db: Db,
  orgId: string,
  idempotency: Idempotency | undefined,
  effect: (tx: Tx) => Promise<EffectResponse>,
  options: { now?: () => Date } = {},
): Promise<StoredResponse> {
  if (!idempotency) {
    const { status, body } = await db.$transaction(effect, TRANSACTION_OPTIONS);
    return { status, body };
  }
  const earlier = await findStored(db, orgId, idempotency.key);
  if (earlier) return answerFor(earlier, idempotency);

  try {
    return await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`idempotency:${orgId}:${idempotency.key}`}, 0))`;
      const stored = await findStored(tx, orgId, idempotency.key);
      if (stored) return answerFor(stored, idempotency);
      const response = await effect(tx);
      const storeBody = response.replayBody === undefined ? response.body : response.replayBody;
      const now = options.now?.() ?? new Date();
      let row: { body: unknown };
      try {
        row = await tx.idempotencyKey.create({
          data: {
            orgId,
            key: idempotency.key,
            requestHash: idempotency.hash,
            status: response.status,
            body: storeBody as Prisma.InputJsonValue,
            expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
          },
          select: { body: true },
        });
      } catch (err) {
        if (uniqueViolationFields(err)) throw new KeyTaken();
        throw err;
      }
      return { status: response.status, body: response.replayBody === undefined ? row.body : response.body };
    }, TRANSACTION_OPTIONS);
  } catch (err) {
    if (!(err instanceof KeyTaken)) throw err;
    const stored = await findStored(db, orgId, idempotency.key);
    if (!stored) throw err;
    return answerFor(stored, idempotency);
  }
}

/**
 * A ledger context whose reads and ledger_apply calls all run on `tx`, for a ledger effect whose response is
 * stored by `withIdempotentEffect` in the same transaction. No coalescer: its batches run on other connections.
 */
export function ledgerContextInTransaction(tx: Tx): LedgerContext {
  // The ledger reads through Prisma model delegates only, which a transaction client has as well.
  return { db: tx as unknown as Db, run: prismaRunner(tx) };
}
