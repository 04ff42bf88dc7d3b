import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { allocateCredits, allocationInputSchema } from '@/lib/ledger/credits.ts';

/** Pool -> member: the moved credits keep the expiry and priority of the pool lots they came from. */
export const POST = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, allocationInputSchema);
  const moved = await allocateCredits(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(moved, 201);
});
