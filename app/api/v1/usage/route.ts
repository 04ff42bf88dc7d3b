import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { recordUsage, usageEventSchema } from '@/lib/ledger/metering.ts';

/** Usage that already happened, charged at once: 201 charged, 200 for a repeated event id. */
export const POST = withApiKey(['meter'], async (req, { org, apiKey }) => {
  const body = await readJson(req, usageEventSchema);
  const result = await recordUsage(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(result, result.status === 'charged' ? 201 : 200);
});
