import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { commitInputSchema, commitReservation } from '@/lib/ledger/metering.ts';

/**
 * Charges the real cost of the call; the unused part of the hold goes back. A repeated identical commit gets
 * the first answer, another amount 409 reservation_already_committed.
 */
export const POST = withApiKey<{ id: string }>(['meter'], async (req, { org, apiKey, params }) => {
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
