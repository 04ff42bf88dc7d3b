import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { allocationInputSchema, reclaimCredits } from '@/lib/ledger/credits.ts';

/** Member -> pool: takes back at most what the member has available; their holds stay untouched. */
export const POST = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, allocationInputSchema);
  const moved = await reclaimCredits(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(moved, 201);
});
