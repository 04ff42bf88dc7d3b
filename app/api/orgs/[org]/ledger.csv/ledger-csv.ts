/**
 * The ledger export's layout: one record per journal entry, with its transaction's fields repeated (for a charge
 * of an LLM request, its model and tokens; `occurred_at` is when it happened, `created_at` when it was recorded).
 */
import type { TransactionDto } from '@/lib/ledger/queries';
import { csvRecord, csvText } from './csv';

export const LEDGER_CSV_COLUMNS = [
  'transaction_id',
  'created_at',
  'kind',
  'memo',
  'account',
  'user',
  'amount',
  'lot_id',
  'lot_source',
  'lot_expires_at',
  'occurred_at',
  'model',
  'input_tokens',
  'output_tokens',
] as const;

export const ledgerCsvHeader = csvRecord(LEDGER_CSV_COLUMNS);

/** The records of one transaction's entries. */
export function ledgerCsvRecords(transaction: TransactionDto): string {
  return transaction.entries
    .map((entry) =>
      csvRecord([
        transaction.id,
        transaction.created_at,
        transaction.kind,
        csvText(transaction.memo),
        entry.account,
        entry.user,
        entry.amount,
        entry.lot?.id,
        entry.lot?.source,
        entry.lot?.expires_at,
        transaction.occurred_at,
        csvText(transaction.usage?.model),
        transaction.usage?.input_tokens,
        transaction.usage?.output_tokens,
      ]),
    )
    .join('');
}
