import { z } from 'zod';
import { json } from '@/lib/http/route.ts';
import { readQuery } from '@/lib/http/query.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { getBalance } from '@/lib/ledger/queries.ts';

const balanceQuerySchema = z.object({ user: z.string().trim().min(1).max(200).optional() });

/** The pool's balance, or a member's with `?user=` (user id or external id). */
export const GET = withApiKey(['meter', 'read'], async (req, { org }) => {
  const query = readQuery(req, balanceQuerySchema);
  return json(await getBalance(getLedgerContext(), org.id, query.user));
});
