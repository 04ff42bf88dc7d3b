/** Usage records at the API: cost as a decimal string of credits, token counts as numbers, times as ISO. */
import type { Db } from '../db/client.ts';
import { formatCredits } from '../money/credits.ts';
import type { UsageRecordRow } from './queries.ts';

export type UsageRecordDto = {
  id: string;
  user: string | null;
  api_key_id: string | null;
  model: string | null;
  provider: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost: string;
  price_version_id: string | null;
  org_price_version_id: string | null;
  latency_ms: number | null;
  status: 'ok' | 'error' | 'cancelled';
  request_id: string | null;
  metadata: unknown;
  occurred_at: string;
  transaction_id: string | null;
  reservation_id: string | null;
  usage_event_id: string | null;
};

/** The records as DTOs, naming each member by user id (one query for the page). */
export async function usageRecordDtos(db: Db, orgId: string, rows: UsageRecordRow[]): Promise<UsageRecordDto[]> {
  const ids = [...new Set(rows.flatMap((r) => (r.membershipId ? [r.membershipId] : [])))];
  const members = ids.length
    ? await db.membership.findMany({ where: { orgId, id: { in: ids } }, select: { id: true, userId: true } })
    : [];
  const users = new Map(members.map((m) => [m.id, m.userId]));
  return rows.map((r) => ({
    id: r.id,
    user: r.membershipId ? (users.get(r.membershipId) ?? null) : null,
    api_key_id: r.apiKeyId,
    model: r.model,
    provider: r.provider,
    input_tokens: Number(r.inputTokens),
    output_tokens: Number(r.outputTokens),
    cached_input_tokens: Number(r.cachedInputTokens),
    cache_write_tokens: Number(r.cacheWriteTokens),
    reasoning_tokens: Number(r.reasoningTokens),
    cost: formatCredits(r.cost),
    price_version_id: r.priceVersionId,
    org_price_version_id: r.orgPriceVersionId,
    latency_ms: r.latencyMs,
    status: r.status,
    request_id: r.requestId,
    metadata: r.metadata,
    occurred_at: r.occurredAt.toISOString(),
    transaction_id: r.transactionId,
    reservation_id: r.reservationId,
    usage_event_id: r.usageEventId,
  }));
}
