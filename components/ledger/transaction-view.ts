/**
 * From the ledger's transaction DTOs to what the transaction list shows, for each viewpoint: the org's whole
 * journal, the pool, one member as an admin sees them, and a member looking at their own credits (who sees
 * their own side only: no other account, person or actor).
 */
import type { EntryDto, TransactionDto } from '@/lib/ledger/queries';
import { formatCredits, parseCredits } from '@/lib/money/credits';
import { lotSourceLabels } from './lots-table';
import { transactionKindLabel } from './transaction-kinds';

export type EntryView = { account: string; amount: string; lot: { source: string; expiresAt: string | null } | null };
export type ReceiptLineView = { source: string; amount: string; expiresAt: string | null; overdraft: boolean };

export type TransactionView = {
  id: string;
  kind: string;
  kindLabel: string;
  createdAt: string;
  /** When it happened for the customer (a backfilled charge: when its request was made). */
  occurredAt: string;
  memo: string | null;
  /** For a charge of an LLM request: "gpt-4o · 2,500 in / 600 out tokens". */
  call: string | null;
  /** The amount in the list: signed for one account's view, the size of the movement for the org's. */
  amount: string;
  signed: boolean;
  /** "Pool → Ada Lovelace": where the credits went from and to. */
  flow?: string;
  actor?: string;
  entries?: EntryView[];
  /** For charges: the lots that paid, and any overdraft. */
  receipt: ReceiptLineView[] | null;
};

/** User id -> how to name them (name or email). */
export type PeopleNames = ReadonlyMap<string, string>;

const systemAccountLabels: Record<string, string> = {
  'system:purchases': 'Purchases',
  'system:promotions': 'Promotions',
  'system:consumption': 'Usage',
  'system:breakage': 'Expired credits',
  'system:adjustments': 'Adjustments',
};

function accountLabel(entry: EntryDto, names: PeopleNames): string {
  if (entry.account === 'pool') return 'Pool';
  if (entry.account === 'user') return (entry.user && names.get(entry.user)) || 'Former member';
  return systemAccountLabels[entry.account] ?? entry.account;
}

function actorLabel(t: TransactionDto, names: PeopleNames): string {
  if (t.actor.type === 'user') return (t.actor.id && names.get(t.actor.id)) || 'Former member';
  if (t.actor.type === 'api_key') return 'API key';
  return 'System';
}

const micros = (amount: string) => parseCredits(amount, { allowNegative: true });

function receiptOf(t: TransactionDto): ReceiptLineView[] | null {
  if (!t.receipt) return null;
  return t.receipt.map((line) => {
    // A drawn amount with no lot is the part the overdraft paid.
    const overdraft = line.lot_id === null;
    return {
      source: overdraft ? 'Overdraft' : (lotSourceLabels[line.source ?? ''] ?? line.source ?? 'Lot'),
      amount: line.amount,
      expiresAt: line.expires_at,
      overdraft,
    };
  });
}

/** Net change per account (by account, not by name: two former members are two accounts), in order of appearance. */
function netByAccount(t: TransactionDto, names: PeopleNames): { label: string; net: bigint }[] {
  const net = new Map<string, { label: string; net: bigint }>();
  for (const e of t.entries) {
    const key = `${e.account}:${e.user ?? ''}`;
    const row = net.get(key) ?? { label: accountLabel(e, names), net: 0n };
    row.net += micros(e.amount);
    net.set(key, row);
  }
  return [...net.values()];
}

const tokens = new Intl.NumberFormat('en-US');

/** What a charge paid for, when its request named a model. */
function callOf(t: TransactionDto): string | null {
  if (!t.usage) return null;
  const { model, input_tokens: input, output_tokens: output } = t.usage;
  return `${model} · ${tokens.format(input)} in / ${tokens.format(output)} out tokens`;
}

function base(t: TransactionDto) {
  const kindLabel = transactionKindLabel(t.kind);
  // The ledger's default memos ("Allocation", "Transfer") only repeat the kind.
  const memo = t.memo && t.memo !== kindLabel ? t.memo : null;
  return { id: t.id, kind: t.kind, kindLabel, createdAt: t.created_at, occurredAt: t.occurred_at, memo, call: callOf(t) };
}

function entriesOf(t: TransactionDto, names: PeopleNames): EntryView[] {
  return t.entries.map((e) => ({
    account: accountLabel(e, names),
    amount: e.amount,
    lot: e.lot ? { source: lotSourceLabels[e.lot.source] ?? e.lot.source, expiresAt: e.lot.expires_at } : null,
  }));
}

/** A transaction of the org's journal: what moved from where to where, with all its entries. */
export function journalTransactionView(t: TransactionDto, names: PeopleNames): TransactionView {
  const accounts = netByAccount(t, names);
  const from = accounts.filter((a) => a.net < 0n).map((a) => a.label);
  const to = accounts.filter((a) => a.net > 0n).map((a) => a.label);
  const moved = accounts.filter((a) => a.net > 0n).reduce((sum, a) => sum + a.net, 0n);
  return {
    ...base(t),
    amount: formatCredits(moved),
    signed: false,
    flow: `${from.join(', ') || '—'} → ${to.join(', ') || '—'}`,
    actor: actorLabel(t, names),
    entries: entriesOf(t, names),
    receipt: receiptOf(t),
  };
}

/** A transaction as it changed the pool (signed), with all its entries. */
export function poolTransactionView(t: TransactionDto, names: PeopleNames): TransactionView {
  const pool = t.entries.filter((e) => e.account === 'pool').reduce((s, e) => s + micros(e.amount), 0n);
  return { ...journalTransactionView(t, names), amount: formatCredits(pool), signed: true };
}

/** A transaction listed for one member (`t.amount` is their net change), as an admin sees it. */
export function memberTransactionView(t: TransactionDto, names: PeopleNames): TransactionView {
  return { ...journalTransactionView(t, names), amount: t.amount ?? '0', signed: true };
}

/**
 * A transaction of the signed-in member's own list: their net change, the memo and, for charges, the lots
 * that paid. Nothing about other accounts, other people or who made the change.
 */
export function ownTransactionView(t: TransactionDto): TransactionView {
  return { ...base(t), amount: t.amount ?? '0', signed: true, receipt: receiptOf(t) };
}
