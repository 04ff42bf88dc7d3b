import { z } from 'zod';
import { json } from '@/lib/http/route.ts';
import { readQuery } from '@/lib/http/query.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { resolveMember } from '@/lib/ledger/accounts.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { usageRecordDtos } from '@/lib/usage/dto.ts';
import { listUsageRecords } from '@/lib/usage/queries.ts';

const usageRecordsQuerySchema = z.object({
  user: z.string().trim().min(1).max(200).optional(),
  model: z.string().trim().min(1).max(200).optional(),
  api_key: z.uuid().optional(),
  status: z.enum(['ok', 'error', 'cancelled']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/** One record per metered request, newest first; `next_cursor` continues it (null on the last page). */
export const GET = withApiKey(['read', 'meter'], async (req, { org }) => {
  const query = readQuery(req, usageRecordsQuerySchema);
  const ctx = getLedgerContext();
  const member = query.user ? await resolveMember(ctx, org.id, query.user) : null;
  const page = await listUsageRecords(
    ctx.db,
    org.id,
    {
      membershipId: member?.membershipId,
      model: query.model,
      apiKeyId: query.api_key,
      status: query.status,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      cursor: query.cursor,
    },
    query.limit ?? 50,
  );
  return json({ data: await usageRecordDtos(ctx.db, org.id, page.data), next_cursor: page.next_cursor });
});
