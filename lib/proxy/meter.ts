/**
 * What the proxy needs from metering, as an interface, so forwarding does not depend on how a request is
 * priced: hold credits for a request before it is forwarded, settle the hold with the usage the upstream
 * reported (or the proxy estimated), cancel it when nothing was consumed. Amounts are micro-credits. The
 * production meter prices tokens with the price catalog through the ledger's priced reservations and
 * commits; tests use a fixed-rate meter over the same ledger (testing/fixed-rate-meter.ts).
 */
import type { RequestInfo } from '../usage/carrier.ts';

export type ProxyEndpoint = 'chat.completions' | 'completions' | 'embeddings';

/** The parts of a request that decide its price before it runs. */
export type MeterRequest = {
  model: string;
  messages?: unknown[];
  prompt?: unknown;
  input?: unknown;
  max_tokens?: number;
};

export type MeteredUsage = {
  model: string;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  reasoning_tokens?: number;
};

/**
 * Who and what a metering call is for: audit trail, metadata and idempotency of the ledger entries. When a
 * request ends, also how long the upstream took and whether the client left before the end.
 */
export type MeterInfo = { apiKeyId: string; requestId: string; endpoint: ProxyEndpoint; latencyMs?: number; clientLeft?: boolean };

/** What the usage record of a request that ended says of it: its id, status and latency. */
export function endedRequestFacts(info: MeterInfo, status: 'ok' | 'error'): RequestInfo {
  return {
    request_id: info.requestId,
    status: status === 'ok' && info.clientLeft ? 'cancelled' : status,
    ...(info.latencyMs !== undefined && { latency_ms: Math.round(info.latencyMs) }),
  };
}

/** A charge priced in-process by the prices and rates the hold was sized with, before it is committed. */
export type MeterQuote = {
  charged: bigint;
  /** The balance once the charge is committed: the balance after the hold plus the part of it released. */
  remaining: bigint;
  /** What the meter needs to commit exactly this charge later; plain JSON (it is journaled). */
  terms: Record<string, string | null>;
};

export type MeterHold = {
  /** What settles or cancels the hold: a reservation, or a request's part of a lease. */
  reservationId: string;
  /** The lease the hold is part of, when it is (leased-meter.ts). */
  leaseId?: string;
  amount: bigint;
  remaining: bigint;
  /** The charge of `usage`, priced in-process; null when the meter cannot tell without the database. */
  quote?(usage: MeteredUsage): MeterQuote | null;
};
export type MeterSettlement = { charged: bigint; remaining: bigint };

/**
 * The member's balance once `charged` is committed against a hold of `amount` that left `remaining`: the part
 * released returns to whoever funded the hold, so to the member's own balance only when the member funded it.
 */
export function remainingAfterCharge(hold: { amount: bigint; remaining: bigint; fundedBy: 'user' | 'pool' }, charged: bigint): bigint {
  return hold.fundedBy === 'user' ? hold.remaining + hold.amount - charged : hold.remaining;
}

export type ProxyMeter = {
  /** Holds the most the request may cost; AppError insufficient_credits (402) when the user cannot pay it. */
  hold(orgId: string, user: string, request: MeterRequest, info: MeterInfo): Promise<MeterHold>;
  /**
   * Charges the usage against the hold and releases the rest: exactly the quote's charge when one is given
   * (a quote of this hold for this usage), else priced now. The same settlement repeated returns the first.
   */
  settle(orgId: string, reservationId: string, usage: MeteredUsage, info: MeterInfo, quote?: Pick<MeterQuote, 'charged' | 'terms'>): Promise<MeterSettlement>;
  /**
   * Releases the hold in full: the request consumed nothing. `failed` (the default): it was forwarded and
   * failed, and its usage record says so; `refused`: it was never forwarded (a rate limit refused it), so it
   * leaves no usage record.
   */
  cancel(orgId: string, reservationId: string, info: MeterInfo, outcome?: 'failed' | 'refused'): Promise<void>;
  /**
   * The price of usage without the database, from what the meter already knows (its price catalog in
   * memory), or null when it cannot tell. Needed only when an org fails open while the database is
   * unreachable: without it, failing open falls back to failing closed.
   */
  priceOffline?(orgId: string, usage: MeteredUsage): bigint | null;
  /**
   * Charges a request answered from a lease, as journaled by a process that may have stopped (its part
   * `chargeId` of lease `leaseId`): exactly the quote's charge when one is given, else priced now; from a lease
   * that ended first, as a usage event of its member. Charges nothing twice. Present on meters that lease.
   */
  settleLeased?(orgId: string, leaseId: string, chargeId: string, usage: MeteredUsage, info: MeterInfo, quote?: Pick<MeterQuote, 'charged' | 'terms'>): Promise<MeterSettlement>;
  /** Releases a lease a stopped process held (its requests charged first); a lease already gone is fine. */
  releaseLease?(orgId: string, leaseId: string): Promise<void>;
  /** Charges what is owed and releases every lease this process holds (graceful shutdown). */
  close?(): Promise<void>;
};
