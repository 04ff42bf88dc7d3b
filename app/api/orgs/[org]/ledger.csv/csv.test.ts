import { describe, expect, it } from 'vitest';
import type { TransactionDto } from '@/lib/ledger/queries';
import { csvField, csvRecord, csvText } from './csv';
import { ledgerCsvHeader, ledgerCsvRecords } from './ledger-csv';

describe('csvField', () => {
  it('leaves plain values alone and empties null', () => {
    expect(csvField('abc')).toBe('abc');
    expect(csvField('-12.5')).toBe('-12.5');
    expect(csvField(3)).toBe('3');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField('')).toBe('');
  });

  it('quotes commas, quotes, line breaks and surrounding spaces, doubling inner quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('padded ')).toBe('"padded "');
    expect(csvField('"')).toBe('""""');
  });
});

describe('csvRecord', () => {
  it('joins fields with commas and ends in CRLF', () => {
    expect(csvRecord(['a', null, 'b,c', '1'])).toBe('a,,"b,c",1\r\n');
  });
});

describe('csvText', () => {
  it('keeps spreadsheets from reading typed text as a formula', () => {
    expect(csvText('=HYPERLINK("x")')).toBe('\'=HYPERLINK("x")');
    for (const lead of ['+', '-', '@', '\t', '\r']) expect(csvText(`${lead}1`)).toBe(`'${lead}1`);
    expect(csvText('Trial credits')).toBe('Trial credits');
    expect(csvText(null)).toBeNull();
  });
});

describe('ledger CSV', () => {
  const charge: TransactionDto = {
    id: 'txn-1',
    kind: 'charge',
    created_at: '2030-01-02T03:04:05.000Z',
    occurred_at: '2030-01-02T03:04:05.000Z',
    memo: 'gpt, "large"',
    reservation_id: null,
    usage_event_id: null,
    actor: { type: 'api_key', id: 'key-1' },
    amount: null,
    entries: [
      { account: 'user', user: 'user-1', amount: '-1.5', lot: { id: 'lot-1', source: 'allocation', expires_at: '2030-02-01T00:00:00.000Z' } },
      { account: 'user', user: 'user-1', amount: '-0.5', lot: null },
      { account: 'system:consumption', user: null, amount: '2', lot: null },
    ],
    receipt: null,
    usage: { model: 'gpt-4o', provider: null, input_tokens: 1200, output_tokens: 300, cached_input_tokens: 0, reasoning_tokens: 0 },
    metadata: {},
  };

  it('has one header and one record per entry, quoted where needed', () => {
    expect(ledgerCsvHeader).toBe('transaction_id,created_at,kind,memo,account,user,amount,lot_id,lot_source,lot_expires_at,occurred_at,model,input_tokens,output_tokens\r\n');
    expect(ledgerCsvRecords(charge).split('\r\n')).toEqual([
      'txn-1,2030-01-02T03:04:05.000Z,charge,"gpt, ""large""",user,user-1,-1.5,lot-1,allocation,2030-02-01T00:00:00.000Z,2030-01-02T03:04:05.000Z,gpt-4o,1200,300',
      'txn-1,2030-01-02T03:04:05.000Z,charge,"gpt, ""large""",user,user-1,-0.5,,,,2030-01-02T03:04:05.000Z,gpt-4o,1200,300',
      'txn-1,2030-01-02T03:04:05.000Z,charge,"gpt, ""large""",system:consumption,,2,,,,2030-01-02T03:04:05.000Z,gpt-4o,1200,300',
      '',
    ]);
  });

  it('neutralizes a memo that starts like a formula', () => {
    expect(ledgerCsvRecords({ ...charge, memo: '=1+1', usage: null, entries: charge.entries.slice(2) })).toBe(
      "txn-1,2030-01-02T03:04:05.000Z,charge,'=1+1,system:consumption,,2,,,,2030-01-02T03:04:05.000Z,,,\r\n",
    );
  });
});
