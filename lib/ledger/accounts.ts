/**
 * Which ledger account a request means: the org pool, or a member named by user id or external id. The
 * answers are cached briefly in the process (a member's account never changes once opened), so the metering
 * hot path does not pay a lookup per call.
 */
import { AppError } from '../http/errors.ts';
import { processMap } from '../ops/process-memory.ts';
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
const memberCache = processMap<string, { value: MemberAccount; at: number }>('ledger-members');
const poolCache = processMap<string, string>('ledger-pools');

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

  const candidates = await ctx.db.membership.findMany({
    where: UUID.test(userRef)
      ? { orgId, OR: [{ userId: userRef }, { externalId: userRef }] }
      : { orgId, externalId: userRef },
    take: 2,
    select: { id: true, userId: true, externalId: true, role: true, ledgerAccount: { select: { id: true } } },
  });
  // A user id match wins over another member's external id that happens to look the same.
  const membership = candidates.find((m) => m.userId === userRef) ?? candidates[0];
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

/**
 * Resolves many member references at once (a usage batch): cached ones from memory, the rest with one query
 * and one call opening any missing accounts. Unknown references are absent from the answer.
 */
export async function resolveMembers(
  ctx: LedgerContext,
  orgId: string,
  userRefs: string[],
): Promise<Map<string, MemberAccount>> {
  const found = new Map<string, MemberAccount>();
  const missing = new Set<string>();
  for (const ref of userRefs) {
    const hit = memberCache.get(`${orgId}:${ref}`);
    if (hit && Date.now() - hit.at < TTL_MS) found.set(ref, hit.value);
    else missing.add(ref);
  }
  if (missing.size === 0) return found;
  const refs = [...missing];
  const rows = await ctx.db.membership.findMany({
    where: {
      orgId,
      OR: [{ userId: { in: refs.filter((r) => UUID.test(r)) } }, { externalId: { in: refs } }],
    },
    select: { id: true, userId: true, externalId: true, role: true, ledgerAccount: { select: { id: true } } },
  });
  const withoutAccount = rows.filter((m) => !m.ledgerAccount).map((m) => m.id);
  const opened = new Map<string, string>();
  if (withoutAccount.length > 0) {
    const accounts = await ctx.run(
      'SELECT m::text AS membership_id, ledger_user_account($1::uuid, m) AS id FROM unnest($2::uuid[]) AS m',
      [orgId, withoutAccount],
    );
    for (const a of accounts) opened.set(a.membership_id as string, a.id as string);
  }
  const byUserId = new Map(rows.map((m) => [m.userId, m]));
  const byExternalId = new Map(rows.filter((m) => m.externalId !== null).map((m) => [m.externalId as string, m]));
  for (const ref of refs) {
    // A user id match wins over an external id that happens to look the same.
    const m = byUserId.get(ref) ?? byExternalId.get(ref);
    if (!m) continue;
    const value: MemberAccount = {
      membershipId: m.id,
      userId: m.userId,
      externalId: m.externalId,
      accountId: m.ledgerAccount?.id ?? (opened.get(m.id) as string),
      role: m.role,
    };
    remember(`${orgId}:${ref}`, value);
    found.set(ref, value);
  }
  return found;
}
