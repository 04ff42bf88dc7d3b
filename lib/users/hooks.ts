/**
 * Extension points of the user lifecycle. Hooks run inside the transaction that made the change, so whatever
 * they write commits or rolls back together with it.
 */
import type { Membership } from '../generated/prisma/client.ts';
import { recordAudit } from '../auth/actor.ts';
import { applyOps, prismaRunner } from '../ledger/apply.ts';
import { credits } from '../ledger/results.ts';
import type { Tx } from './create-user.ts';

/**
 * Called once for every new membership (a user created into an org, an existing user added to another org,
 * an org's first owner), inside the transaction that inserted it and after the insert.
 *
 * Opens the member's credit account and applies the org's automatic allocation (or the member's override)
 * from the pool, in the same transaction as the join. When the pool cannot cover it the member still joins,
 * without the credits, and the audit trail says why.
 */
export async function afterUserJoinedOrg(tx: Tx, membership: Membership): Promise<void> {
  const run = prismaRunner(tx);
  const rows = await run(
    `SELECT ledger_ensure_org_accounts($1::uuid) AS pool, ledger_user_account($1::uuid, $2::uuid) AS account,
            coalesce(mp.auto_allocation, op.auto_allocation, 0)::text AS amount
       FROM (SELECT 1) one
       LEFT JOIN org_policies op ON op.org_id = $1::uuid
       LEFT JOIN member_policies mp ON mp.membership_id = $2::uuid`,
    [membership.orgId, membership.id],
  );
  const { pool, account, amount } = rows[0] as { pool: string; account: string; amount: string };
  if (BigInt(amount) <= 0n) return;
  const [result] = await applyOps(run, membership.orgId, [
    {
      type: 'move',
      kind: 'allocation',
      from_account_id: pool,
      to_account_id: account,
      amount,
      memo: 'Automatic allocation for a new member',
      actor_type: 'system',
      actor_id: null,
    },
  ]);
  if (!result.ok) {
    await recordAudit(tx, {
      orgId: membership.orgId,
      actor: { type: 'system' },
      action: 'allocation.auto_skipped',
      targetType: 'user',
      targetId: membership.userId,
      data: { amount: credits(amount), reason: result.code },
    });
  }
}
