import { z } from 'zod';
import { json } from '@/lib/http/route.ts';
import { readQuery } from '@/lib/http/query.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { listTransactions } from '@/lib/ledger/queries.ts';

const transactionsQuerySchema = z.object({
  user: z.string().trim().min(1).max(200).optional(),
  kind: z.string().trim().min(1).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/**
 * The journal, newest first; `next_cursor` continues it (null on the last page). The whole org's: read scope
 * (a metering key sees balances, not other members' entries).
 */
export const GET = withApiKey(['read'], async (req, { org }) => {
  const query = readQuery(req, transactionsQuerySchema);
  const page = await listTransactions(getLedgerContext(), org.id, {
    user: query.user,
    kind: query.kind,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
    cursor: query.cursor,
    limit: query.limit,
  });
  return json(page);
});
