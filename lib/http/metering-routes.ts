/**
 * The metering API's handlers: reserve, commit, release, usage and balance. They are defined here, outside
 * app/, because they are served twice with the same code: by Next's router (app/api/v1/.../route.ts re-export
 * them) and by the production server's direct dispatch (fast-dispatch.ts), which skips the router for these
 * hot paths. Each stays thin: authenticate, validate, call the ledger, map the result.
 */
import { z } from 'zod';
import { getLedgerContext } from '../ledger/context.ts';
import { getBalance } from '../ledger/queries.ts';
import { getReservation } from '../ledger/reservations.ts';
import { callFactsOf } from '../usage/carrier.ts';
import {
  commitInputSchema,
  commitReservation,
  MAX_BATCH_EVENTS,
  recordUsage,
  recordUsageBatch,
  releaseInputSchema,
  releaseReservation,
  reserveCredits,
  reserveInputSchema,
  usageEventSchema,
} from '../ledger/metering.ts';
import { readIdempotency } from './idempotency.ts';
import { readQuery } from './query.ts';
import { json, readJson, readOptionalJson } from './route.ts';
import { withApiKey } from './with-api-key.ts';
import type { FastRoute } from './fast-dispatch.ts';

/** POST /api/v1/reservations: sets credits aside before an LLM call; 402 insufficient_credits when they do not fit. */
export const reservationsPost = withApiKey(['meter'], async (req, { org, apiKey }) => {
  const body = await readJson(req, reserveInputSchema);
  const reservation = await reserveCredits(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(reservation, 201);
});

/** GET /api/v1/reservations/{id}: a reservation of the key's org: active, committed, released or expired. */
export const reservationGet = withApiKey<{ id: string }>(['meter', 'read'], async (_req, { org, params }) =>
  json(await getReservation(getLedgerContext(), org.id, params.id)),
);

/**
 * POST /api/v1/reservations/{id}/commit: charges the real cost of the call; the unused part of the hold goes
 * back. A repeated identical commit gets the first answer, another amount 409 reservation_already_committed.
 */
export const reservationCommitPost = withApiKey<{ id: string }>(['meter'], async (req, { org, apiKey, params }) => {
  const body = await readJson(req, commitInputSchema);
  const committed = await commitReservation(
    getLedgerContext(),
    org.id,
    params.id,
    body,
    { type: 'api_key', apiKeyId: apiKey.id },
    readIdempotency(req, body),
  );
  return json(committed);
});

/**
 * POST /api/v1/reservations/{id}/release: gives the whole hold back (the call failed or never happened). The
 * body is optional; it may tell the call's request id, latency and status for its usage record.
 */
export const reservationReleasePost = withApiKey<{ id: string }>(['meter'], async (req, { org, apiKey, params }) => {
  const body = await readOptionalJson(req, releaseInputSchema);
  const released = await releaseReservation(
    getLedgerContext(),
    org.id,
    params.id,
    { type: 'api_key', apiKeyId: apiKey.id },
    readIdempotency(req, body),
    callFactsOf(body),
  );
  return json(released);
});

/** POST /api/v1/usage: usage that already happened, charged at once: 201 charged, 200 for a repeated event id. */
export const usagePost = withApiKey(['meter'], async (req, { org, apiKey }) => {
  const body = await readJson(req, usageEventSchema);
  const result = await recordUsage(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(result, result.status === 'charged' ? 201 : 200);
});

const usageBatchSchema = z.object({ events: z.array(usageEventSchema).min(1).max(MAX_BATCH_EVENTS) });

/**
 * POST /api/v1/usage/batch: up to 1000 usage events in one ledger statement; the answer is per event
 * (charged, duplicate or rejected). With an Idempotency-Key the ledger stores the answer in the transaction
 * that charged the batch.
 */
export const usageBatchPost = withApiKey(['meter'], async (req, { org, apiKey }) => {
  const body = await readJson(req, usageBatchSchema);
  const results = await recordUsageBatch(
    getLedgerContext(),
    org.id,
    body.events,
    { type: 'api_key', apiKeyId: apiKey.id },
    readIdempotency(req, body),
  );
  const summary = { charged: 0, duplicate: 0, rejected: 0 };
  for (const result of results) summary[result.status] += 1;
  return json({ results, summary }, 200);
});

const balanceQuerySchema = z.object({ user: z.string().trim().min(1).max(200).optional() });

/** GET /api/v1/balance: the pool's balance, or a member's with `?user=` (user id or external id). */
export const balanceGet = withApiKey(['meter', 'read'], async (req, { org }) => {
  const query = readQuery(req, balanceQuerySchema);
  return json(await getBalance(getLedgerContext(), org.id, query.user));
});

/** The routes above as served by the production server's direct dispatch (fast-dispatch.ts). */
export const meteringFastRoutes = [
  { method: 'POST', path: '/api/v1/reservations', handler: reservationsPost },
  { method: 'GET', path: '/api/v1/reservations/:id', handler: reservationGet },
  { method: 'POST', path: '/api/v1/reservations/:id/commit', handler: reservationCommitPost },
  { method: 'POST', path: '/api/v1/reservations/:id/release', handler: reservationReleasePost },
  { method: 'POST', path: '/api/v1/usage', handler: usagePost },
  { method: 'POST', path: '/api/v1/usage/batch', handler: usageBatchPost },
  { method: 'GET', path: '/api/v1/balance', handler: balanceGet },
] as FastRoute[];
