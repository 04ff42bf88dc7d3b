/**
 * The entries of journal transactions with what they name: the account (its kind and, for a member's, the
 * user) and the lot (source and expiry). Entries carry no foreign keys (see the ledger_entries_checked
 * migration), so the accounts and lots are read by id, two lookups for any number of entries.
 */
import type { Db } from '../db/client.ts';

export type EntryWithRefs = {
  id: bigint;
  transactionId: string;
  accountId: string;
  amount: bigint;
  lotId: string | null;
  account: { kind: string; userId: string | null };
  lot: { id: string; source: string; expiresAt: Date | null } | null;
};

/** The entries of `transactionIds` (of `orgId`), each transaction's in the order they were written. */
export async function entriesOf(db: Db, orgId: string, transactionIds: string[]): Promise<EntryWithRefs[]> {
  if (transactionIds.length === 0) return [];
  const entries = await db.ledgerEntry.findMany({
    where: { orgId, transactionId: { in: transactionIds } },
    orderBy: { id: 'asc' },
    select: { id: true, transactionId: true, accountId: true, amount: true, lotId: true },
  });
  const accountIds = [...new Set(entries.map((e) => e.accountId))];
  const lotIds = [...new Set(entries.flatMap((e) => (e.lotId ? [e.lotId] : [])))];
  const [accounts, lots] = await Promise.all([
    db.ledgerAccount.findMany({
      where: { orgId, id: { in: accountIds } },
      select: { id: true, kind: true, membership: { select: { userId: true } } },
    }),
    lotIds.length > 0
      ? db.creditLot.findMany({ where: { orgId, id: { in: lotIds } }, select: { id: true, source: true, expiresAt: true } })
      : Promise.resolve([]),
  ]);
  const accountById = new Map(accounts.map((a) => [a.id, { kind: a.kind as string, userId: a.membership?.userId ?? null }]));
  const lotById = new Map(lots.map((l) => [l.id, { id: l.id, source: l.source as string, expiresAt: l.expiresAt }]));
  return entries.map((e) => {
    const account = accountById.get(e.accountId);
    if (!account) throw new Error(`ledger entry ${e.id} names account ${e.accountId}, which is not in its org`);
    return { ...e, account, lot: e.lotId ? (lotById.get(e.lotId) ?? null) : null };
  });
}
