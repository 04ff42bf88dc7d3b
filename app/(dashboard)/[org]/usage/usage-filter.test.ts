import { describe, expect, it } from 'vitest';
import { parseUsageFilter, usageQuery } from './usage-filter';

const id = '0190a0a0-0000-7000-8000-000000000001';

describe('parseUsageFilter', () => {
  it('keeps valid filters and includes the whole last day', () => {
    const parsed = parseUsageFilter({ user: id, model: 'gpt-4o', status: 'error', from: '2026-01-01', to: '2026-01-31' });
    expect(parsed.errors).toEqual({});
    expect(parsed.filter).toEqual({
      membershipId: id,
      model: 'gpt-4o',
      status: 'error',
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-02-01T00:00:00Z'),
    });
    expect(usageQuery(parsed.values)).toBe(`?user=${id}&model=gpt-4o&status=error&from=2026-01-01&to=2026-01-31`);
  });

  it('reports invalid filters by field and leaves them out', () => {
    const parsed = parseUsageFilter(new URLSearchParams('user=ada&key=x&status=weird&from=2026-02-30&to=2026-01-01&cursor=%24'));
    expect(Object.keys(parsed.errors).sort()).toEqual(['cursor', 'from', 'key', 'status', 'user']);
    expect(parsed.filter).toEqual({ to: new Date('2026-01-02T00:00:00Z') });
  });

  it('refuses a range that ends before it starts', () => {
    const parsed = parseUsageFilter({ from: '2026-02-01', to: '2026-01-01' });
    expect(parsed.errors.to).toBe('To must not be before From');
    expect(parsed.filter.to).toBeUndefined();
  });
});
