import { db } from '@/lib/db/client.ts';
import { json, readJson } from '@/lib/http/route.ts';
import { ledgerContextInTransaction, readIdempotency, withIdempotentEffect } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { ensureOrgLedger } from '@/lib/ledger/accounts.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import { getOrgPolicy, orgPolicyDto, orgPolicyInputSchema, updateOrgPolicy } from '@/lib/ledger/policies.ts';

/** The org's credit policy. */
export const GET = withApiKey(['read'], async (_req, { org }) => json(orgPolicyDto(await getOrgPolicy(getLedgerContext(), org.id))));

/** Changes the fields given; the others keep their values. */
export const PUT = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, orgPolicyInputSchema);
  // Open the org's ledger outside the transaction: the pool id is cached and must not come from a rollback.
  await ensureOrgLedger(getLedgerContext(), org.id);
  const answer = await withIdempotentEffect(db, org.id, readIdempotency(req, body), async (tx) => {
    const policy = await updateOrgPolicy(ledgerContextInTransaction(tx), org.id, body, { type: 'api_key', apiKeyId: apiKey.id });
    return { status: 200, body: orgPolicyDto(policy) };
  });
  return json(answer.body, answer.status);
});
