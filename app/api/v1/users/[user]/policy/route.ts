import { db } from '@/lib/db/client.ts';
import { json, readJson } from '@/lib/http/route.ts';
import { ledgerContextInTransaction, readIdempotency, withIdempotentEffect } from '@/lib/http/idempotency.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';
import { resolveMember } from '@/lib/ledger/accounts.ts';
import { getLedgerContext } from '@/lib/ledger/context.ts';
import {
  getEffectivePolicy,
  getMemberPolicy,
  memberPolicyDto,
  memberPolicyInputSchema,
  orgPolicyDto,
  updateMemberPolicy,
} from '@/lib/ledger/policies.ts';

/** A member's overrides (null: the org's value applies) and the policy in effect for them. */
export const GET = withApiKey<{ user: string }>(['admin'], async (_req, { org, params }) => {
  const ledger = getLedgerContext();
  const member = await resolveMember(ledger, org.id, params.user);
  const [overrides, effective] = await Promise.all([
    getMemberPolicy(ledger, member.membershipId),
    getEffectivePolicy(ledger, org.id, member.membershipId),
  ]);
  return json({ user: member.userId, overrides: memberPolicyDto(overrides), effective: orgPolicyDto(effective) });
});

/** Sets the overrides given; null clears one, so the org's value applies again. */
export const PUT = withApiKey<{ user: string }>(['admin'], async (req, { org, apiKey, params }) => {
  const body = await readJson(req, memberPolicyInputSchema);
  const ledger = getLedgerContext();
  const member = await resolveMember(ledger, org.id, params.user);
  const answer = await withIdempotentEffect(db, org.id, readIdempotency(req, body), async (tx) => {
    const inTx = ledgerContextInTransaction(tx);
    const overrides = await updateMemberPolicy(inTx, org.id, member.membershipId, body, { type: 'api_key', apiKeyId: apiKey.id });
    const effective = await getEffectivePolicy(inTx, org.id, member.membershipId);
    return { status: 200, body: { user: member.userId, overrides: memberPolicyDto(overrides), effective: orgPolicyDto(effective) } };
  });
  return json(answer.body, answer.status);
});
