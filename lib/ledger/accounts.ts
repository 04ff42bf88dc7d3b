/**
 * Which ledger account a request means: the org pool, or a member named by user id or external id. The
 * answers are cached briefly in the process (a member's account never changes once opened), so the metering
 * hot path does not pay a lookup per call.
 */
import { AppError } from '../http/errors.ts';
import type { LedgerContext } from './context.ts';

export type MemberAccount = {
  membershipId: string;
  userId: string;
  externalId: string | null;
  accountId: string;
  role: string;
};

const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;
const memberCache = new Map<string, { value: MemberAccount; at: number }>();
const poolCache = new Map<string, string>();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function remember(key: string, value: MemberAccount) {
  if (memberCache.size >= MAX_ENTRIES) memberCache.delete(memberCache.keys().next().value as string);
  memberCache.set(key, { value, at: Date.now() });
}

/** Forgets cached members of an org (after a member was removed or changed). */
export function forgetMembers(orgId: string): void {
  for (const key of memberCache.keys()) if (key.startsWith(`${orgId}:`)) memberCache.delete(key);
}

/** Opens the pool and system accounts of an org; returns the pool's id. */
export async function ensureOrgLedger(ctx: LedgerContext, orgId: string): Promise<string> {
  const cached = poolCache.get(orgId);
  if (cached) return cached;
  const rows = await ctx.run('SELECT ledger_ensure_org_accounts($1::uuid) AS pool', [orgId]);
  const pool = rows[0].pool as string;
  poolCache.set(orgId, pool);
  return pool;
}

/** The member `userRef` (a user id, else an external id) of the org with their account; 404 otherwise. */
export async function resolveMember(ctx: LedgerContext, orgId: string, userRef: string): Promise<MemberAccount> {
  const key = `${orgId}:${userRef}`;
  const hit = memberCache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;

  const membership = await ctx.db.membership.findFirst({
    where: UUID.test(userRef)
      ? { orgId, OR: [{ userId: userRef }, { externalId: userRef }] }
      : { orgId, externalId: userRef },
    // A user id match wins over an external id that happens to look the same.
    orderBy: { createdAt: 'asc' },
    select: { id: true, userId: true, externalId: true, role: true, ledgerAccount: { select: { id: true } } },
  });
  if (!membership) throw new AppError('not_found', `User ${userRef} not found in this org`);
  let accountId = membership.ledgerAccount?.id;
  if (!accountId) {
    const rows = await ctx.run('SELECT ledger_user_account($1::uuid, $2::uuid) AS id', [orgId, membership.id]);
    accountId = rows[0].id as string;
  }
  const value: MemberAccount = {
    membershipId: membership.id,
    userId: membership.userId,
    externalId: membership.externalId,
    accountId,
    role: membership.role,
  };
  remember(key, value);
  return value;
}
