import { describe, expect, it } from 'vitest';
import { BULK_CHUNK_SIZE, chunkRows, MAX_BULK_ROWS, parseAllocationCsv, splitCsvRecords } from './allocation-csv';

describe('splitCsvRecords', () => {
  it('splits on commas and any line ending, dropping blank lines and a byte order mark', () => {
    expect(splitCsvRecords('\uFEFFa,1\r\nb,2\n\nc,3\rd,4\n').records).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, and trims unquoted ones', () => {
    expect(splitCsvRecords('"Doe, Jane",  5 \n"say ""hi""","line\nbreak"\n" keep ",1').records).toEqual([
      ['Doe, Jane', '5'],
      ['say "hi"', 'line\nbreak'],
      [' keep ', '1'],
    ]);
  });

  it('reports a quote that is never closed, with the line it opened on', () => {
    expect(splitCsvRecords('a,1\nb,"2\n').unterminated).toBe(2);
    expect(splitCsvRecords('a,1\n').unterminated).toBeNull();
  });
});

describe('parseAllocationCsv', () => {
  it('detects a header row and numbers rows as a spreadsheet does', () => {
    const parsed = parseAllocationCsv('User,Amount\nada@example.com,10\nuser-grace,2.5\n');
    expect(parsed.hasHeader).toBe(true);
    expect(parsed.rows).toEqual([
      { row: 2, user: 'ada@example.com', amount: '10' },
      { row: 3, user: 'user-grace', amount: '2.5' },
    ]);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fileErrors).toEqual([]);
  });

  it('takes the first row as data when it is not a header', () => {
    const parsed = parseAllocationCsv('ada@example.com,10\n0190b2a4-0000-7000-8000-000000000001,1');
    expect(parsed.hasHeader).toBe(false);
    expect(parsed.rows.map((r) => r.row)).toEqual([1, 2]);
    for (const header of ['email,credits', 'external_id,amount', 'user_id,amount']) {
      expect(parseAllocationCsv(`${header}\nx,1`).hasHeader).toBe(true);
    }
    // A first row that is neither data nor a header is a bad row, not silently skipped.
    expect(parseAllocationCsv('name,value\nx,1').errors).toEqual([{ row: 1, text: 'name,value', message: expect.stringContaining('"value"') }]);
  });

  it('lists bad rows with their number and reason, and keeps the good ones', () => {
    const parsed = parseAllocationCsv(
      ['user,amount', 'a,1', 'b', ',2', 'c,', 'd,-1', 'e,0', 'f,1.1234567', 'g,1e3', 'h,1,extra', 'i,3,,'].join('\n'),
    );
    expect(parsed.rows).toEqual([
      { row: 2, user: 'a', amount: '1' },
      { row: 11, user: 'i', amount: '3' },
    ]);
    expect(parsed.errors.map((e) => [e.row, e.message])).toEqual([
      [3, 'Expected 2 columns (user, amount), found 1'],
      [4, 'User is missing'],
      [5, 'Amount is missing'],
      [6, 'Amount must not be negative'],
      [7, 'Amount must be greater than 0'],
      [8, expect.stringContaining('at most 6 decimals')],
      [9, expect.stringContaining('"1e3"')],
      [10, 'Expected 2 columns (user, amount), found 3'],
    ]);
    expect(parsed.errors[0].text).toBe('b');
  });

  it('reports problems of the whole file', () => {
    expect(parseAllocationCsv('').fileErrors).toEqual(['The file has no rows']);
    expect(parseAllocationCsv('user,amount\n').fileErrors).toEqual(['The file has no rows']);
    expect(parseAllocationCsv('a,"1\n').fileErrors).toEqual(['A quoted field opened on line 1 is never closed']);
    const big = Array.from({ length: MAX_BULK_ROWS + 1 }, (_, i) => `u${i},1`).join('\n');
    expect(parseAllocationCsv(big).fileErrors).toEqual([expect.stringContaining(`more than ${MAX_BULK_ROWS} rows`)]);
  });
});

describe('chunkRows', () => {
  it('cuts rows into request-sized chunks in order', () => {
    const rows = Array.from({ length: 120 }, (_, i) => i);
    const chunks = chunkRows(rows);
    expect(chunks.map((c) => c.length)).toEqual([BULK_CHUNK_SIZE, BULK_CHUNK_SIZE, 20]);
    expect(chunks.flat()).toEqual(rows);
  });
});
