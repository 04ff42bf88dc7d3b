/** The kinds of ledger transactions and their names in the UI. */
export const transactionKinds = [
  'grant',
  'purchase',
  'allocation',
  'reclaim',
  'transfer',
  'charge',
  'expiry',
  'adjustment',
  'refund',
  'debt_settlement',
] as const;

export type TransactionKind = (typeof transactionKinds)[number];

export const transactionKindLabels: Record<TransactionKind, string> = {
  grant: 'Grant',
  purchase: 'Purchase',
  allocation: 'Allocation',
  reclaim: 'Reclaim',
  transfer: 'Transfer',
  charge: 'Charge',
  expiry: 'Expiry',
  adjustment: 'Adjustment',
  refund: 'Refund',
  debt_settlement: 'Debt settlement',
};

export function isTransactionKind(value: string): value is TransactionKind {
  return (transactionKinds as readonly string[]).includes(value);
}

export function transactionKindLabel(kind: string): string {
  return isTransactionKind(kind) ? transactionKindLabels[kind] : kind;
}
