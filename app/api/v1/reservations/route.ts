import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { reserveCredits, reserveInputSchema } from '@/lib/ledger/metering.ts';

/** Sets credits aside before an LLM call; 402 insufficient_credits when the member cannot cover it. */
export const POST = withApiKey(['meter'], async (req, { org, apiKey }) => {
  const body = await readJson(req, reserveInputSchema);
  const reservation = await reserveCredits(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(reservation, 201);
});
