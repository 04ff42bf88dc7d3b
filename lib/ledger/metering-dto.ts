/**
 * The answers of the metering calls as the API gives them (decimal credit strings, ISO times), from the
 * ledger functions' results.
 */
import type { AccountState, LedgerResult } from './apply.ts';
import { balanceDto, credits, toAppError, unwrap, type BalanceDto } from './results.ts';

export type ReservationDto = {
  id: string;
  status: 'active';
  amount: string;
  expires_at: string;
  funded_by: 'user' | 'pool';
  balance: BalanceDto;
};

export function reservationDto(r: LedgerResult): ReservationDto {
  const ok = unwrap(r);
  return {
    id: ok.id as string,
    status: 'active',
    amount: credits(ok.amount as string),
    expires_at: new Date(ok.expires_at as string).toISOString(),
    funded_by: ok.funded_by as 'user' | 'pool',
    balance: balanceDto(ok.balance as AccountState),
  };
}

export type CommitDto = {
  id: string;
  status: 'committed';
  charged: string;
  released: string;
  transaction_id: string | null;
  balance: BalanceDto;
};

export function commitDto(r: LedgerResult): CommitDto {
  const ok = unwrap(r);
  return {
    id: ok.id as string,
    status: 'committed',
    charged: credits(ok.charged as string),
    released: credits(ok.released as string),
    transaction_id: (ok.transaction_id as string | null) ?? null,
    balance: balanceDto(ok.balance as AccountState),
  };
}

export type ReleaseDto = { id: string; status: 'released'; released: string; balance: BalanceDto };

export function releaseDto(r: LedgerResult): ReleaseDto {
  const ok = unwrap(r);
  return {
    id: ok.id as string,
    status: 'released',
    released: credits(ok.released as string),
    balance: balanceDto(ok.balance as AccountState),
  };
}

export type UsageResultDto =
  | {
      id: string;
      status: 'charged' | 'duplicate';
      charged: string;
      transaction_id: string | null;
      balance?: BalanceDto;
    }
  | { id: string; status: 'rejected'; error: { code: string; message: string; details?: Record<string, unknown> } };

export function usageDto(eventId: string, r: LedgerResult): UsageResultDto {
  if (!r.ok) {
    const err = toAppError(r);
    return {
      id: eventId,
      status: 'rejected',
      error: { code: err.code, message: err.message, ...(err.details && { details: err.details }) },
    };
  }
  return {
    id: eventId,
    status: r.status as 'charged' | 'duplicate',
    charged: credits(r.charged as string),
    transaction_id: (r.transaction_id as string | null) ?? null,
    balance: r.balance ? balanceDto(r.balance as AccountState) : undefined,
  };
}
