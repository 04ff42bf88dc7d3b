/**
 * Usage records written here rather than by the charge triggers: requests that charged nothing (failed
 * upstream, cancelled, released holds). A charged request's record is written by the database in the
 * transaction of its charge (see lib/usage/index.ts).
 */
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { validationError } from '../http/errors.ts';
import { resolveMember } from '../ledger/accounts.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { usageTokensSchema } from '../pricing/calculate.ts';
import { callerMetadataSchema, requestInfoSchema, USAGE_KEY, type UsageFacts } from './carrier.ts';

export const unchargedUsageSchema = requestInfoSchema.extend({
  user: z.string().trim().min(1).max(200).optional(),
  model: z.string().trim().min(1).max(200).optional(),
  ...usageTokensSchema.partial().shape,
  metadata: callerMetadataSchema,
  occurred_at: z.date().optional(),
});

export type UnchargedUsage = z.input<typeof unchargedUsageSchema>;

/**
 * One record of a request that charged nothing (cost 0), e.g. a proxied call that failed upstream: status
 * `error` by default. Returns the record's id.
 */
export async function recordUsage(ctx: LedgerContext, orgId: string, input: UnchargedUsage, actor: Actor): Promise<string> {
  const parsed = unchargedUsageSchema.safeParse(input);
  if (!parsed.success) {
    throw validationError('Usage is invalid', parsed.error);
  }
  const u = parsed.data;
  const member = u.user ? await resolveMember(ctx, orgId, u.user) : null;
  const record = await ctx.db.usageRecord.create({
    data: {
      orgId,
      membershipId: member?.membershipId ?? null,
      apiKeyId: u.api_key_id ?? (actor.type === 'api_key' ? actor.apiKeyId : null),
      model: u.model ?? null,
      provider: u.provider ?? null,
      inputTokens: BigInt(u.input_tokens ?? 0),
      outputTokens: BigInt(u.output_tokens ?? 0),
      cachedInputTokens: BigInt(u.cached_input_tokens ?? 0),
      cacheWriteTokens: BigInt(u.cache_write_tokens ?? 0),
      reasoningTokens: BigInt(u.reasoning_tokens ?? 0),
      cost: 0n,
      latencyMs: u.latency_ms ?? null,
      status: u.status ?? 'error',
      requestId: u.request_id ?? null,
      metadata: (u.metadata ?? {}) as Prisma.InputJsonValue,
      occurredAt: u.occurred_at ?? ctx.now?.() ?? new Date(),
    },
    select: { id: true },
  });
  return record.id;
}

/**
 * The record of a released hold: what the reservation carried, overlaid with `facts`; status `cancelled`
 * unless the facts say otherwise. At most one per reservation.
 */
export async function recordReleasedRequest(
  ctx: LedgerContext,
  orgId: string,
  reservationId: string,
  facts: UsageFacts,
): Promise<void> {
  await ctx.run(
    `INSERT INTO "usage_records" (id, org_id, membership_id, api_key_id, model, provider, cost, latency_ms, status,
                                  request_id, metadata, occurred_at, reservation_id, created_at)
     SELECT gen_random_uuid(), r.org_id, r.membership_id, usage_uuid_or_null(x.u->>'api_key_id'), x.u->>'model',
            x.u->>'provider', 0,
            CASE WHEN x.u ? 'latency_ms' THEN least(usage_bigint(x.u, 'latency_ms'), 2147483647)::int END,
            CASE WHEN x.u ? 'status' THEN usage_status(x.u) ELSE 'cancelled' END, x.u->>'request_id',
            r.metadata - $4::text, coalesce(r.resolved_at, now()), r.id, now()
       FROM "reservations" r,
            LATERAL (SELECT coalesce(r.metadata->$4::text, '{}'::jsonb) || $3::jsonb AS u) x
      WHERE r.id = $1::uuid AND r.org_id = $2::uuid AND r.status = 'released'
     ON CONFLICT (reservation_id) DO NOTHING`,
    [reservationId, orgId, JSON.stringify(facts), USAGE_KEY],
  );
}
