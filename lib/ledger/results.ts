/**
 * From ledger results (amounts as strings of micro-credits) to API values (decimal strings of credits), and
 * failed results to AppErrors. Pure, so a stored result replayed for a repeated request formats exactly as
 * the first time.
 */
import { AppError, errorStatus, type ErrorCode } from '../http/errors.ts';
import { formatCredits } from '../money/credits.ts';
import type { AccountState, LedgerFailure, LedgerResult, LedgerSuccess } from './apply.ts';

const AMOUNT_KEYS = new Set([
  'amount',
  'charged',
  'released',
  'available',
  'reserved',
  'balance',
  'debt',
  'requested',
  'overdraft_limit',
]);

export function credits(micros: string | bigint): string {
  return formatCredits(typeof micros === 'bigint' ? micros : BigInt(micros));
}

export type BalanceDto = { available: string; reserved: string; total: string; debt: string };

export function balanceDto(state: AccountState): BalanceDto {
  return {
    available: credits(state.available),
    reserved: credits(state.reserved),
    total: credits(state.balance),
    debt: credits(state.debt),
  };
}

/** Formats the amounts of a details object (error details carry amounts as micro strings too). */
export function formatAmounts(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, AMOUNT_KEYS.has(k) && typeof v === 'string' ? credits(v) : v]),
  );
}

export function isSuccess(r: LedgerResult): r is LedgerSuccess {
  return r.ok;
}

export function toAppError(r: LedgerFailure): AppError {
  const code = (r.code in errorStatus ? r.code : 'conflict') as ErrorCode;
  return new AppError(code, r.message, r.details ? formatAmounts(r.details) : undefined);
}

/** The success of a result, or its failure thrown as an AppError. */
export function unwrap(r: LedgerResult): LedgerSuccess {
  if (!r.ok) throw toAppError(r);
  return r;
}
