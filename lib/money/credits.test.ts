import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  displayCredits,
  formatCredits,
  MAX_CREDITS_MICROS,
  parseCredits,
  positiveCreditsSchema,
  nonNegativeCreditsSchema,
  signedCreditsSchema,
} from './credits.ts';

describe('parseCredits', () => {
  it('parses decimal strings into micro-credits', () => {
    expect(parseCredits('12.5')).toBe(12_500_000n);
    expect(parseCredits('0.000001')).toBe(1n);
    expect(parseCredits('7')).toBe(7_000_000n);
    expect(parseCredits(' 3.10 ')).toBe(3_100_000n);
  });

  it('refuses what is not an exact decimal of credits', () => {
    for (const bad of ['', '1.2345678', '1e3', '0x10', '1,5', 'abc', '.5', '5.', 'NaN', 'Infinity']) {
      expect(() => parseCredits(bad), bad).toThrow();
    }
  });

  it('refuses negatives unless asked, and amounts out of range', () => {
    expect(() => parseCredits('-1')).toThrow(/negative/);
    expect(parseCredits('-1.5', { allowNegative: true })).toBe(-1_500_000n);
    expect(() => parseCredits('1000000000001')).toThrow(/too large/);
    expect(parseCredits('1000000000000')).toBe(MAX_CREDITS_MICROS);
  });
});

describe('formatCredits', () => {
  it('writes the shortest exact decimal', () => {
    expect(formatCredits(12_500_000n)).toBe('12.5');
    expect(formatCredits(1n)).toBe('0.000001');
    expect(formatCredits(0n)).toBe('0');
    expect(formatCredits(-2_000_000n)).toBe('-2');
  });

  it('round-trips every amount exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_CREDITS_MICROS, max: MAX_CREDITS_MICROS }), (micros) => {
        expect(parseCredits(formatCredits(micros), { allowNegative: true })).toBe(micros);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('displayCredits', () => {
  it('groups thousands and rounds half up at the shown precision', () => {
    expect(displayCredits(1_234_567_500_000n)).toBe('1,234,567.5');
    expect(displayCredits(1_005_000n, { maxDecimals: 2 })).toBe('1.01');
    expect(displayCredits(-1_004_999n, { maxDecimals: 2 })).toBe('-1');
  });
});

describe('amount schemas', () => {
  it('turn API strings into micro-credits with clear errors', () => {
    expect(positiveCreditsSchema.parse('1.25')).toBe(1_250_000n);
    expect(positiveCreditsSchema.safeParse('0').success).toBe(false);
    expect(positiveCreditsSchema.safeParse(1.25).success).toBe(false);
    expect(nonNegativeCreditsSchema.parse('0')).toBe(0n);
    expect(signedCreditsSchema.parse('-3')).toBe(-3_000_000n);
  });
});
