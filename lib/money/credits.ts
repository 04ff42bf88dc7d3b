/**
 * Credits are integers of micro-credits (1 credit = 1,000,000 micro) as `bigint` in the database and the
 * domain, and decimal strings with up to 6 fractional digits at the API and in the UI. This module is the only
 * converter between the two; no Number arithmetic ever touches an amount.
 */
import { z } from 'zod';

export const MICROS_PER_CREDIT = 1_000_000n;
export const CREDIT_DECIMALS = 6;
/** Largest amount accepted anywhere: 10^12 credits, far inside bigint and PostgreSQL's int8. */
export const MAX_CREDITS_MICROS = 10n ** 18n;

const DECIMAL = /^(-)?(\d+)(?:\.(\d{1,6}))?$/;

export class InvalidAmountError extends Error {
  constructor(readonly input: unknown, reason: string) {
    super(reason);
    this.name = 'InvalidAmountError';
  }
}

/** "12.5" -> 12_500_000n. Rejects floats' exponent form, more than 6 decimals and amounts out of range. */
export function parseCredits(input: string, options: { allowNegative?: boolean } = {}): bigint {
  const match = DECIMAL.exec(input.trim());
  if (!match) {
    throw new InvalidAmountError(input, 'must be a decimal string of credits with at most 6 fractional digits, like "12.5"');
  }
  const [, sign, whole, fraction = ''] = match;
  const micros = BigInt(whole) * MICROS_PER_CREDIT + BigInt(fraction.padEnd(CREDIT_DECIMALS, '0'));
  if (micros > MAX_CREDITS_MICROS) throw new InvalidAmountError(input, 'is too large');
  if (sign && micros !== 0n) {
    if (!options.allowNegative) throw new InvalidAmountError(input, 'must not be negative');
    return -micros;
  }
  return micros;
}

/** 12_500_000n -> "12.5"; trailing zeros dropped, no exponent, sign kept. */
export function formatCredits(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / MICROS_PER_CREDIT;
  const fraction = (abs % MICROS_PER_CREDIT).toString().padStart(CREDIT_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Display form with thousands separators ("1,234.5"), for the UI only. */
export function displayCredits(micros: bigint, options: { maxDecimals?: number } = {}): string {
  const max = options.maxDecimals ?? CREDIT_DECIMALS;
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const unit = 10n ** BigInt(CREDIT_DECIMALS - max);
  // Round half up at the displayed precision.
  const rounded = ((abs + unit / 2n) / unit) * unit;
  const [whole, fraction = ''] = formatCredits(rounded).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative && rounded !== 0n ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

function amountSchema(options: { allowZero: boolean; allowNegative?: boolean }) {
  return z.string({ error: 'must be a decimal string like "12.5"' }).transform((value, ctx) => {
    try {
      const micros = parseCredits(value, { allowNegative: options.allowNegative });
      if (!options.allowZero && micros === 0n) {
        ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
        return z.NEVER;
      }
      return micros;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** A positive amount of credits at the API, parsed to micro-credits. */
export const positiveCreditsSchema = amountSchema({ allowZero: false });
/** Zero or more credits (commits of nothing, for instance). */
export const nonNegativeCreditsSchema = amountSchema({ allowZero: true });
/** A signed amount (adjustments). */
export const signedCreditsSchema = amountSchema({ allowZero: false, allowNegative: true });
