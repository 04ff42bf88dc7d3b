import { describe, expect, it } from 'vitest';
import type { TransactionDto } from '@/lib/ledger/queries';
import { journalTransactionView, ownTransactionView, poolTransactionView } from './transaction-view';

const lot = (id: string, source: string, expires: string | null = null) => ({ id, source, expires_at: expires });

const transfer: TransactionDto = {
  id: 'txn-t',
  kind: 'transfer',
  created_at: '2030-01-01T00:00:00.000Z',
  occurred_at: '2030-01-01T00:00:00.000Z',
  memo: 'Team move',
  reservation_id: null,
  usage_event_id: null,
  actor: { type: 'user', id: 'admin-1' },
  amount: '3',
  entries: [
    { account: 'user', user: 'bob', amount: '-2', lot: lot('l1', 'allocation') },
    { account: 'user', user: 'bob', amount: '-1', lot: lot('l2', 'allocation', '2030-02-01T00:00:00.000Z') },
    { account: 'user', user: 'ada', amount: '2', lot: lot('l3', 'transfer') },
    { account: 'user', user: 'ada', amount: '1', lot: lot('l4', 'transfer', '2030-02-01T00:00:00.000Z') },
  ],
  receipt: null,
  usage: null,
  metadata: {},
};

const charge: TransactionDto = {
  ...transfer,
  id: 'txn-c',
  kind: 'charge',
  memo: null,
  actor: { type: 'api_key', id: 'key-1' },
  amount: '-1.5',
  entries: [
    { account: 'pool', user: null, amount: '-1', lot: lot('p1', 'promotion') },
    { account: 'user', user: 'ada', amount: '-0.5', lot: null },
    { account: 'system:consumption', user: null, amount: '1.5', lot: null },
  ],
  receipt: [
    { lot_id: 'p1', source: 'promotion', amount: '1', expires_at: null },
    { lot_id: null, source: 'overdraft', amount: '0.5', expires_at: null },
  ],
  // A backfilled request: made the day before it was recorded.
  occurred_at: '2029-12-31T09:30:00.000Z',
  usage: { model: 'gpt-4o', provider: 'openai', input_tokens: 12500, output_tokens: 600, cached_input_tokens: 0, reasoning_tokens: 0 },
};

const names = new Map([
  ['ada', 'Ada'],
  ['bob', 'Bob'],
  ['admin-1', 'Avery'],
]);

describe('journalTransactionView', () => {
  it('says what moved from where to where, by whom, with every entry', () => {
    const view = journalTransactionView(transfer, names);
    expect(view).toMatchObject({ kindLabel: 'Transfer', amount: '3', signed: false, flow: 'Bob → Ada', actor: 'Avery', memo: 'Team move' });
    expect(view.entries).toHaveLength(4);
    expect(journalTransactionView(charge, names)).toMatchObject({ flow: 'Pool, Ada → Usage', actor: 'API key' });
  });

  it('names members who left the org as former members and drops memos that repeat the kind', () => {
    const view = journalTransactionView({ ...transfer, memo: 'Transfer' }, new Map());
    expect(view.flow).toBe('Former member → Former member');
    expect(view.memo).toBeNull();
  });
});

describe('poolTransactionView', () => {
  it('shows the pool’s own signed change', () => {
    expect(poolTransactionView(charge, names)).toMatchObject({ amount: '-1', signed: true });
  });
});

describe('ownTransactionView', () => {
  it('shows a member only their change and what paid it, overdraft marked', () => {
    const view = ownTransactionView(charge);
    expect(view).toEqual({
      id: 'txn-c',
      kind: 'charge',
      kindLabel: 'Charge',
      createdAt: '2030-01-01T00:00:00.000Z',
      occurredAt: '2029-12-31T09:30:00.000Z',
      memo: null,
      call: 'gpt-4o · 12,500 in / 600 out tokens',
      amount: '-1.5',
      signed: true,
      receipt: [
        { source: 'Promotion', amount: '1', expiresAt: null, overdraft: false },
        { source: 'Overdraft', amount: '0.5', expiresAt: null, overdraft: true },
      ],
    });
    // No other account, person or actor reaches the member's page.
    const own = ownTransactionView(transfer);
    expect(own).not.toHaveProperty('entries');
    expect(own).not.toHaveProperty('flow');
    expect(own).not.toHaveProperty('actor');
    expect(JSON.stringify(own)).not.toMatch(/bob|admin-1|Avery/);
  });
});
