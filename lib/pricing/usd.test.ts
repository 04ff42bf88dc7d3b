import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG_KEY, CATALOG_RULES } from './catalog-source.ts';
import { formatUsd, parseUsd, positiveUsdSchema, usdNumberToNano } from './usd.ts';

describe('USD prices as nano-USD', () => {
  it('parses and formats exactly', () => {
    expect(parseUsd('2.5')).toBe(2_500_000_000n);
    expect(parseUsd('0.000000001')).toBe(1n);
    expect(parseUsd('0.0000000001')).toBeNull();
    expect(parseUsd('-1')).toBeNull();
    expect(parseUsd('1e3')).toBeNull();
    expect(formatUsd(2_500_000_000n)).toBe('2.5');
    expect(formatUsd(37_500_000n)).toBe('0.0375');
    expect(formatUsd(15_000_000_000n)).toBe('15');
  });

  it('recovers the catalog decimals from doubles', () => {
    expect(usdNumberToNano(0.075)).toBe(75_000_000n);
    expect(usdNumberToNano(0.1 + 0.2)).toBe(300_000_000n);
    expect(usdNumberToNano(22.5)).toBe(22_500_000_000n);
  });

  it('refuses zero and negative prices at the API', () => {
    expect(positiveUsdSchema.safeParse('0').success).toBe(false);
    expect(positiveUsdSchema.safeParse('-2').success).toBe(false);
    expect(positiveUsdSchema.parse('0.15')).toBe(150_000_000n);
  });

  it('names the catalog release pinned in package.json', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(CATALOG_KEY).toBe(`genai-prices@${pkg.dependencies['@pydantic/genai-prices']}/${CATALOG_RULES}`);
  });
});
