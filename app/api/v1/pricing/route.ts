import type { Db } from '@/lib/db/client.ts';
import { db } from '@/lib/db/client.ts';
import { readIdempotency, withIdempotentEffect } from '@/lib/http/idempotency.ts';
import { json, readJson } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { getOrgPricing } from '@/lib/pricing/browse.ts';
import { forgetPricingCache } from '@/lib/pricing/catalog.ts';
import { orgPricingDto } from '@/lib/pricing/dto.ts';
import { orgPricingInputSchema, writeOrgPriceVersion } from '@/lib/pricing/org-prices.ts';

/** The org's pricing in force now: rate, markup, discounts, estimate settings, its own model prices, history. */
export const GET = withApiKey(['read'], async (_req, { org }) => {
  return json(orgPricingDto(await getOrgPricing(getLedgerContext(), org.id)));
});

/** A new version of the org's prices; what the body leaves out is carried over. Effective now or later. */
export const POST = withApiKey(['admin'], async (req, { org }) => {
  const body = await readJson(req, orgPricingInputSchema);
  const answer = await withIdempotentEffect(db, org.id, readIdempotency(req, body), async (tx) => {
    const version = await writeOrgPriceVersion({ db: tx as unknown as Db }, org.id, body, null);
    return { status: 201, body: { id: version.id, effective_at: version.effectiveAt.toISOString() } };
  });
  // Committed now: this process prices with it at once (others within the cache's few seconds).
  forgetPricingCache(org.id);
  return json(answer.body, answer.status);
});
