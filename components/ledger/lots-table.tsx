import { Badge } from '@/components/ui/badge';
import { formatDate, formatDateTime } from '@/components/ui/format';
import { Table, Td, Th } from '@/components/ui/table';
import type { LotDto } from '@/lib/ledger/queries';
import { isZero, showCredits } from './credits';

export const lotSourceLabels: Record<string, string> = {
  purchase: 'Purchase',
  promotion: 'Promotion',
  allocation: 'Allocation',
  transfer: 'Transfer',
  refund: 'Refund',
  adjustment: 'Adjustment',
};

function LotStatus({ lot }: { lot: LotDto }) {
  if (lot.expired) return <Badge tone="danger">Expired</Badge>;
  if (isZero(lot.remaining)) return <Badge>Spent</Badge>;
  return <Badge tone="success">Active</Badge>;
}

/**
 * Lots: where credits came from, what is left of them and when they stop being spendable. Spending takes the
 * highest priority first, then the earliest expiry, which is the order the ledger lists them in.
 */
export function LotsTable({ caption, lots }: { caption: string; lots: LotDto[] }) {
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          <Th>Source</Th>
          <Th className="text-right">Amount</Th>
          <Th className="text-right">Remaining</Th>
          <Th className="text-right">Priority</Th>
          <Th>Received</Th>
          <Th>Expires</Th>
          <Th>Status</Th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100">
        {lots.map((lot) => (
          <tr key={lot.id}>
            <Td className="font-medium">{lotSourceLabels[lot.source] ?? lot.source}</Td>
            <Td className="text-right tabular-nums">{showCredits(lot.amount)}</Td>
            <Td className="text-right tabular-nums">{showCredits(lot.remaining)}</Td>
            <Td className="text-right tabular-nums">{lot.priority}</Td>
            <Td className="whitespace-nowrap">{formatDate(lot.created_at)}</Td>
            <Td className="whitespace-nowrap">{lot.expires_at ? formatDateTime(lot.expires_at) : 'Never'}</Td>
            <Td>
              <LotStatus lot={lot} />
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
