/**
 * Extension points of the user lifecycle. Hooks run inside the transaction that made the change, so whatever
 * they write commits or rolls back together with it.
 */
import type { Membership } from '../generated/prisma/client.ts';
import type { Tx } from './create-user.ts';

/**
 * Called once for every new membership (a user created into an org, an existing user added to another org,
 * an org's first owner), inside the transaction that inserted it and after the insert.
 *
 * This is where the ledger applies the org's automatic allocation to a new member: it opens the member's
 * credit account and grants the configured starting credits in the same transaction as the join, so a user
 * can never be a member without the allocation the org promised. Until the ledger exists there is nothing to
 * allocate, and the hook leaves the database as it is.
 */
export async function afterUserJoinedOrg(tx: Tx, membership: Membership): Promise<void> {
  void tx;
  void membership;
}
