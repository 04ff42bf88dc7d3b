import { z } from 'zod';
import { json, readJson } from '@/lib/http/route.ts';
import { readIdempotency } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { releaseReservation } from '@/lib/ledger/metering.ts';

const releaseBodySchema = z.object({});

/** Gives the whole hold back (the call failed or was cancelled). The body is optional. */
export const POST = withApiKey<{ id: string }>(['meter'], async (req, { org, apiKey, params }) => {
  const body = req.body === null ? {} : await readJson(req, releaseBodySchema);
  const released = await releaseReservation(
    getLedgerContext(),
    org.id,
    params.id,
    { type: 'api_key', apiKeyId: apiKey.id },
    readIdempotency(req, body),
  );
  return json(released);
});
