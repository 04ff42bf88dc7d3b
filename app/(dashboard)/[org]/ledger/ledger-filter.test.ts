import { describe, expect, it } from 'vitest';
import { ledgerQuery, parseLedgerFilter } from './ledger-filter';

describe('parseLedgerFilter', () => {
  it('turns UTC days into a half-open range that includes the whole last day', () => {
    const parsed = parseLedgerFilter(new URLSearchParams('user=u-1&kind=charge&from=2030-01-01&to=2030-01-31'));
    expect(parsed.errors).toEqual({});
    expect(parsed.filter).toEqual({
      user: 'u-1',
      kind: 'charge',
      from: new Date('2030-01-01T00:00:00Z'),
      to: new Date('2030-02-01T00:00:00Z'),
    });
  });

  it('reports bad values by field and leaves them out of the filter', () => {
    const parsed = parseLedgerFilter({ kind: 'gift', from: '2030-02-30', to: 'yesterday', cursor: 'a b' });
    expect(Object.keys(parsed.errors).sort()).toEqual(['cursor', 'from', 'kind', 'to']);
    expect(parsed.filter).toEqual({});
    expect(parsed.raw).toEqual({ kind: 'gift', from: '2030-02-30', to: 'yesterday', cursor: 'a b' });
    expect(parseLedgerFilter({ from: '2030-02-02', to: '2030-02-01' }).errors.to).toBe('To must not be before From');
  });

  it('ignores empty values', () => {
    expect(parseLedgerFilter({ user: '', kind: ' ', from: undefined })).toEqual({ values: {}, raw: {}, filter: {}, errors: {} });
  });
});

describe('ledgerQuery', () => {
  it('keeps the filters that are set, in a stable order', () => {
    expect(ledgerQuery({ kind: 'grant', user: 'a b', cursor: 'xyz' })).toBe('?user=a+b&kind=grant&cursor=xyz');
    expect(ledgerQuery({})).toBe('');
  });
});
