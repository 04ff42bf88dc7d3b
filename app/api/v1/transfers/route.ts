import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { transferCredits, transferInputSchema } from '@/lib/ledger/credits.ts';

/** Between two members, or a member and the pool (an absent side is the pool). */
export const POST = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, transferInputSchema);
  const moved = await transferCredits(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(moved, 201);
});
