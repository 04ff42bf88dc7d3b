import { z } from 'zod';
import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { MAX_BATCH_EVENTS, recordUsageBatch, usageEventSchema } from '@/lib/ledger/metering.ts';

const usageBatchSchema = z.object({ events: z.array(usageEventSchema).min(1).max(MAX_BATCH_EVENTS) });

/**
 * Up to 1000 usage events in one ledger statement; the answer is per event (charged, duplicate or rejected).
 * With an Idempotency-Key the ledger stores the answer in the transaction that charged the batch.
 */
export const POST = withApiKey(['meter'], async (req, { org, apiKey }) => {
  const body = await readJson(req, usageBatchSchema);
  const idempotency = readIdempotency(req, body);
  const results = await recordUsageBatch(
    getLedgerContext(),
    org.id,
    body.events,
    { type: 'api_key', apiKeyId: apiKey.id },
    idempotency,
  );
  const summary = { charged: 0, duplicate: 0, rejected: 0 };
  for (const result of results) summary[result.status] += 1;
  return json({ results, summary }, 200);
});
