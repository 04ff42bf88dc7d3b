import { z } from 'zod';
import { json } from '@/lib/http/route.ts';
import { readQuery } from '@/lib/http/query.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { listLots } from '@/lib/ledger/queries.ts';

const lotsQuerySchema = z.object({
  user: z.string().trim().min(1).max(200).optional(),
  include_spent: z.enum(['true', 'false']).optional(),
});

/** The credit lots of the pool or of a member, in spend order; spent lots only with `include_spent=true`. */
export const GET = withApiKey(['read'], async (req, { org }) => {
  const query = readQuery(req, lotsQuerySchema);
  const data = await listLots(getLedgerContext(), org.id, { user: query.user, includeSpent: query.include_spent === 'true' });
  return json({ data });
});
