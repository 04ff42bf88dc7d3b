/**
 * The proxy's production meter: holds, charges and releases through the ledger's priced metering, so a proxied
 * request is priced exactly like a backend's own priced reserve and commit — the hold at the estimate of the
 * request (tokenizer count, org margin, output limited by max_tokens, the model's maximum and the org cap), the
 * charge at the usage the upstream reported, both by the org's price version in force, with one usage record
 * per request (API key, request id, status) written in the charge's transaction.
 *
 * For orgs that fail open while the database is unreachable, it also remembers, per org and model, the price
 * and rates of its last successful hold, and prices the unmetered request with them (null when it never priced
 * that model: the request is then refused, as when failing closed).
 */
import { AppError, validationError } from '../http/errors.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { commitInputSchema, commitReservation, releaseReservation, reserveCredits, reserveInputSchema } from '../ledger/metering.ts';
import { parseCredits } from '../money/credits.ts';
import { calculateCharge, findModelPrice, pricingAsOf } from '../pricing/index.ts';
import type { ModelPriceData, OrgRates } from '../pricing/calculate.ts';
import type { MeteredUsage, MeterInfo, MeterRequest, ProxyMeter } from './meter.ts';

/** Holds outlive the longest request the proxy forwards (it gives up on an upstream after UPSTREAM_TIMEOUT_MS per chunk). */
export const PROXY_HOLD_TTL_SECONDS = 3600;

const actor = (info: MeterInfo) => ({ type: 'api_key' as const, apiKeyId: info.apiKeyId });

/** The request's input, as the estimate takes it: chat messages, a completion prompt, or embedding input. */
function estimateOf(request: MeterRequest) {
  const max = request.max_tokens !== undefined ? { max_output_tokens: request.max_tokens } : {};
  if (request.messages) return { messages: request.messages, ...max };
  if (request.prompt !== undefined) {
    const prompt = Array.isArray(request.prompt) ? request.prompt.map(String).join('\n') : String(request.prompt);
    return { prompt, ...max };
  }
  const input = request.input;
  if (typeof input === 'string') return { input, ...max };
  if (Array.isArray(input) && input.every((i) => typeof i === 'string')) return { input: input.join('\n'), ...max };
  if (Array.isArray(input)) return { input: input as never, ...max };
  return { input_tokens: 0, ...max };
}

type Remembered = { price: ModelPriceData; rates: OrgRates; at: number };

/** How often the price kept for offline pricing is refreshed per org and model. */
const REMEMBER_MS = 30_000;

export function pricedMeter(ctx: LedgerContext): ProxyMeter {
  const lastPrices = new Map<string, Remembered>();
  const remember = async (orgId: string, model: string) => {
    const key = `${orgId}:${model}`;
    if (Date.now() - (lastPrices.get(key)?.at ?? 0) < REMEMBER_MS) return;
    const at = ctx.now?.() ?? new Date();
    const pricing = await pricingAsOf(ctx, orgId, at);
    const price = await findModelPrice(ctx, orgId, model, { at, pricing });
    if (lastPrices.size >= 10_000) lastPrices.clear();
    lastPrices.set(key, { price, rates: pricing.rates, at: Date.now() });
  };

  return {
    async hold(orgId, user, request, info) {
      const input = reserveInputSchema.safeParse({
        user,
        model: request.model,
        estimate: estimateOf(request),
        ttl_seconds: PROXY_HOLD_TTL_SECONDS,
        metadata: { endpoint: info.endpoint },
      });
      if (!input.success) throw validationError('The request cannot be metered', input.error);
      const held = await reserveCredits(
        ctx,
        orgId,
        input.data,
        actor(info),
        undefined,
        { request_id: info.requestId },
      );
      // The lookups the hold just made, answered from the pricing cache, at most every REMEMBER_MS.
      await remember(orgId, request.model).catch(() => {});
      return { reservationId: held.id, amount: parseCredits(held.amount), remaining: parseCredits(held.balance.available) };
    },

    async settle(orgId, reservationId, usage, info) {
      const input = commitInputSchema.safeParse({
        usage: {
          model: usage.model,
          input_tokens: usage.input_tokens,
          output_tokens: usage.output_tokens,
          ...(usage.cached_input_tokens !== undefined && { cached_input_tokens: usage.cached_input_tokens }),
          ...(usage.reasoning_tokens !== undefined && { reasoning_tokens: usage.reasoning_tokens }),
        },
      });
      if (!input.success) throw validationError('The request cannot be metered', input.error);
      const done = await commitReservation(
        ctx,
        orgId,
        reservationId,
        input.data,
        actor(info),
        undefined,
        { request_id: info.requestId, status: 'ok' },
      );
      return { charged: parseCredits(done.charged), remaining: parseCredits(done.balance.available) };
    },

    async cancel(orgId, reservationId, info, outcome = 'failed') {
      try {
        await releaseReservation(ctx, orgId, reservationId, actor(info), undefined, outcome === 'failed' ? { request_id: info.requestId, status: 'error' } : undefined);
      } catch (err) {
        // Already settled or released (a repeated cancel) is fine; anything else is not.
        if (!(err instanceof AppError && err.code.startsWith('reservation_'))) throw err;
      }
    },

    priceOffline(orgId, usage: MeteredUsage) {
      const known = lastPrices.get(`${orgId}:${usage.model}`);
      if (!known) return null;
      return calculateCharge(known.price, known.rates, {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cached_input_tokens: usage.cached_input_tokens ?? 0,
        cache_write_tokens: 0,
        reasoning_tokens: usage.reasoning_tokens ?? 0,
      }).amount;
    },
  };
}

const holder = globalThis as unknown as { __creditsPricedMeter?: ProxyMeter };

/** The process's priced meter over its ledger context (one object: the proxy's wiring is cached by meter). */
export function getPricedMeter(ctx: LedgerContext): ProxyMeter {
  holder.__creditsPricedMeter ??= pricedMeter(ctx);
  return holder.__creditsPricedMeter;
}
