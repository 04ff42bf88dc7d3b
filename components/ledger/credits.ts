/**
 * Credits as the ledger pages show them. The ledger's DTOs carry decimal strings and the summary bigint
 * micro-credits; both go through lib/money, so no amount is ever a JavaScript number.
 */
import { displayCredits, parseCredits } from '@/lib/money/credits';

function micros(value: string | bigint): bigint {
  return typeof value === 'bigint' ? value : parseCredits(value, { allowNegative: true });
}

/** "1,234.5" */
export function showCredits(value: string | bigint): string {
  return displayCredits(micros(value));
}

/** "+10", "-1.5" or "0": for movements, where the direction is the point. */
export function showSignedCredits(value: string | bigint): string {
  const m = micros(value);
  return m > 0n ? `+${displayCredits(m)}` : displayCredits(m);
}

export function isZero(value: string | bigint): boolean {
  return micros(value) === 0n;
}

export function isPositive(value: string | bigint): boolean {
  return micros(value) > 0n;
}
