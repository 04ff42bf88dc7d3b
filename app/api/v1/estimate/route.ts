import { json, readJson } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { estimateDto } from '@/lib/pricing/estimate-dto.ts';
import { estimateCost, estimateInputSchema } from '@/lib/pricing/estimate.ts';

/** What a request to a model will probably cost; nothing is held. 422 unknown_model for unpriced models. */
export const POST = withApiKey(['meter', 'read'], async (req, { org }) => {
  const body = await readJson(req, estimateInputSchema);
  return json(estimateDto(await estimateCost(getLedgerContext(), org.id, body)));
});
