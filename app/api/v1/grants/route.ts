import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { grantCredits, grantInputSchema } from '@/lib/ledger/credits.ts';

/** Promotional or manual credits into the org pool, or straight to a member when `user` is given. */
export const POST = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, grantInputSchema);
  const grant = await grantCredits(getLedgerContext(), org.id, body, { type: 'api_key', apiKeyId: apiKey.id }, readIdempotency(req, body));
  return json(grant, 201);
});
