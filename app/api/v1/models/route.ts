import { z } from 'zod';
import { json } from '@/lib/http/route.ts';
import { readQuery } from '@/lib/http/query.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { browseCatalog } from '@/lib/pricing/browse.ts';
import { modelPriceDto } from '@/lib/pricing/dto.ts';

const modelsQuerySchema = z.object({
  search: z.string().trim().max(200).optional(),
  page: z.coerce.number().int().min(0).max(10_000).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/** The catalog in force now, in preference order, searchable by model or provider. */
export const GET = withApiKey(['read', 'meter'], async (req, { org }) => {
  const query = readQuery(req, modelsQuerySchema);
  const page = await browseCatalog(getLedgerContext(), org.id, { search: query.search, page: query.page, pageSize: query.limit ?? 50 });
  return json({ catalog: page.catalogKey, total: page.total, data: page.rows.map(modelPriceDto) });
});
