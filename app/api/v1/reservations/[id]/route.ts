import { json } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { getReservation } from '@/lib/ledger/reservations.ts';

/** A reservation of the key's org: active, committed, released or expired. */
export const GET = withApiKey<{ id: string }>(['meter', 'read'], async (_req, { org, params }) =>
  json(await getReservation(getLedgerContext(), org.id, params.id)),
);
