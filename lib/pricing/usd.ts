/**
 * Prices in USD per million tokens as exact integers of nano-USD (10^-9 USD) per million tokens: "2.5" ->
 * 2_500_000_000n. Nine fractional digits cover every published per-token price (the smallest are fractions
 * of a cent per million); more digits are refused rather than rounded, so a price is always what was typed.
 */
import { z } from 'zod';

export const NANOS_PER_USD = 1_000_000_000n;
const USD_DECIMALS = 9;
/** USD 1,000,000 per million tokens: far beyond any real price, far inside bigint and int8. */
const MAX_PRICE_NANO = 1_000_000n * NANOS_PER_USD;

const DECIMAL = /^(\d+)(?:\.(\d{1,9}))?$/;

/** "2.5" -> 2_500_000_000n; null for anything that is not a plain non-negative decimal within range. */
export function parseUsd(input: string): bigint | null {
  const match = DECIMAL.exec(input.trim());
  if (!match) return null;
  const [, whole, fraction = ''] = match;
  const nano = BigInt(whole) * NANOS_PER_USD + BigInt(fraction.padEnd(USD_DECIMALS, '0'));
  return nano > MAX_PRICE_NANO ? null : nano;
}

/** 2_500_000_000n -> "2.5" (no exponent, trailing zeros dropped). */
export function formatUsd(nano: bigint): string {
  const whole = nano / NANOS_PER_USD;
  const fraction = (nano % NANOS_PER_USD).toString().padStart(USD_DECIMALS, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

/**
 * A catalog number (JSON, so a double) to nano-USD: printed with 12 decimals and rounded half up to nine,
 * which recovers the decimal the catalog was written with (0.075 is stored as 0.07499999999999999…).
 */
export function usdNumberToNano(value: number): bigint {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a price: ${value}`);
  const [whole, fraction] = value.toFixed(12).split('.');
  const scaled = BigInt(whole + fraction); // 12 decimals
  return (scaled + 500n) / 1000n;
}

/** A positive USD price per million tokens at the API ("2.5"), parsed to nano-USD; zero and negatives refused. */
export const positiveUsdSchema = z.string({ error: 'must be a decimal string of USD like "2.5"' }).transform((value, ctx) => {
  const nano = parseUsd(value);
  if (nano === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a decimal string of USD with at most 9 fractional digits' });
    return z.NEVER;
  }
  if (nano === 0n) {
    ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
    return z.NEVER;
  }
  return nano;
});
