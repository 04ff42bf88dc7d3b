/**
 * A ProxyMeter for tests and benchmarks that prices tokens at fixed rates (micro-credits per token) and moves
 * credits through the real ledger: reserveCredits for the hold, commitReservation with the priced amount,
 * releaseReservation to cancel. A request without max_tokens is held for `defaultMaxOutputTokens`.
 */
import { AppError } from '../../http/errors.ts';
import type { LedgerContext } from '../../ledger/context.ts';
import { commitReservation, releaseReservation, reserveCredits } from '../../ledger/metering.ts';
import { parseCredits } from '../../money/credits.ts';
import { remainingAfterCharge, type MeteredUsage, type MeterInfo, type ProxyMeter } from '../meter.ts';
import { estimateInputTokens } from '../usage.ts';

export type FixedRates = { input: bigint; cachedInput: bigint; output: bigint; defaultMaxOutputTokens: number };

export function priceAtFixedRates(rates: FixedRates, usage: Omit<MeteredUsage, 'model'>): bigint {
  const cached = BigInt(Math.min(usage.cached_input_tokens ?? 0, usage.input_tokens));
  return (BigInt(usage.input_tokens) - cached) * rates.input + cached * rates.cachedInput + BigInt(usage.output_tokens) * rates.output;
}

const actor = (info: MeterInfo) => ({ type: 'api_key' as const, apiKeyId: info.apiKeyId });

export function fixedRateMeter(ctx: LedgerContext, rates: FixedRates): ProxyMeter {
  return {
    async hold(orgId, user, request, info) {
      const estimate = priceAtFixedRates(rates, {
        input_tokens: estimateInputTokens(request),
        output_tokens: request.max_tokens ?? rates.defaultMaxOutputTokens,
      });
      const amount = estimate > 0n ? estimate : 1n;
      const held = await reserveCredits(ctx, orgId, { user, amount, metadata: { model: request.model, request_id: info.requestId, endpoint: info.endpoint } }, actor(info));
      const remaining = parseCredits(held.balance.available);
      return {
        reservationId: held.id,
        amount,
        remaining,
        quote(usage) {
          const charged = priceAtFixedRates(rates, usage);
          return { charged, remaining: remainingAfterCharge({ amount, remaining, fundedBy: held.funded_by }, charged), terms: {} };
        },
      };
    },
    async settle(orgId, reservationId, usage, info, quote) {
      const amount = quote?.charged ?? priceAtFixedRates(rates, usage);
      const done = await commitReservation(ctx, orgId, reservationId, { amount, metadata: { ...usage, request_id: info.requestId } }, actor(info));
      return { charged: parseCredits(done.charged), remaining: parseCredits(done.balance.available) };
    },
    async cancel(orgId, reservationId, info) {
      try {
        await releaseReservation(ctx, orgId, reservationId, actor(info));
      } catch (err) {
        // Already settled or released (a repeated cancel) is fine; anything else is not.
        if (!(err instanceof AppError && err.code.startsWith('reservation_'))) throw err;
      }
    },
    priceOffline: (_orgId, usage) => priceAtFixedRates(rates, usage),
  };
}
