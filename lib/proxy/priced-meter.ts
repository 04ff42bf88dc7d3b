/**
 * The proxy's production meter: holds, charges and releases through the ledger's priced metering, so a proxied
 * request is priced exactly like a backend's own priced reserve and commit — the hold at the estimate of the
 * request (tokenizer count, org margin, output limited by max_tokens, the model's maximum and the org cap), the
 * charge at the usage the upstream reported, both by the org's price version in force, with one usage record
 * per request (API key, request id, status) written in the charge's transaction. A hold also quotes the charge
 * of a usage in-process, by the same price and rates it was sized with (chargeAmount, as the ledger's own
 * pricing does); settling with that quote commits exactly it, with the same usage record.
 *
 * For orgs that fail open while the database is unreachable, it also remembers, per org and model, the price
 * and rates of its last successful hold, and prices the unmetered request with them (null when it never priced
 * that model: the request is then refused, as when failing closed).
 */
import { AppError, validationError } from '../http/errors.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { commitInputSchema, commitReservation, pricedUsageFacts, releaseReservation, reserveCredits, reserveInputSchema } from '../ledger/metering.ts';
import { parseCredits } from '../money/credits.ts';
import { chargeAmount, findModelPrice, pricingAsOf } from '../pricing/index.ts';
import type { ModelPriceData, OrgRates } from '../pricing/calculate.ts';
import type { PriceTerms } from '../pricing/estimate.ts';
import { endedRequestFacts, remainingAfterCharge, type MeteredUsage, type MeterInfo, type MeterRequest, type ProxyMeter } from './meter.ts';

/** Holds outlive the longest request the proxy forwards (it gives up on an upstream after UPSTREAM_TIMEOUT_MS per chunk). */
export const PROXY_HOLD_TTL_SECONDS = 3600;

export const actor = (info: MeterInfo) => ({ type: 'api_key' as const, apiKeyId: info.apiKeyId });

/** The request's input, as the estimate takes it: chat messages, a completion prompt, or embedding input. */
export function estimateOf(request: MeterRequest) {
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

export type Terms = PriceTerms;
type Remembered = { price: ModelPriceData; rates: OrgRates; at: number };

/** How often the price kept for offline pricing is refreshed per org and model. */
const REMEMBER_MS = 30_000;

function tokensOf(usage: MeteredUsage) {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cached_input_tokens: usage.cached_input_tokens ?? 0,
    cache_write_tokens: 0,
    reasoning_tokens: usage.reasoning_tokens ?? 0,
  };
}

/** The charge of `usage` by `terms`, or null when the usage cannot be priced (its token kinds do not add up). */
export function chargeOf(terms: Pick<Terms, 'price' | 'rates'>, usage: MeteredUsage): bigint | null {
  try {
    return chargeAmount(terms.price, terms.rates, tokensOf(usage));
  } catch {
    return null;
  }
}

/** The price and rates of `model` in force for the org now: the lookups a hold's estimate makes, answered from the pricing cache (catalog.ts). */
export async function termsOf(ctx: LedgerContext, orgId: string, model: string): Promise<Terms> {
  const at = ctx.now?.() ?? new Date();
  const pricing = await pricingAsOf(ctx, orgId, at);
  const price = await findModelPrice(ctx, orgId, model, { at, pricing });
  return { price, rates: pricing.rates, orgPriceVersionId: pricing.org?.id ?? null };
}

/** The price versions `terms` price by, as a usage record names them; what a quote carries (plain JSON, journaled). */
export function quoteTerms(terms: Terms): { provider: string; price_version_id: string; org_price_version_id: string | null } {
  return { provider: terms.price.provider, price_version_id: terms.price.priceVersionId, org_price_version_id: terms.orgPriceVersionId };
}

/** The usage as the ledger's commit input takes it; a validation error when it cannot be metered. */
export function commitUsageOf(usage: MeteredUsage) {
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
  return input.data;
}

export function pricedMeter(ctx: LedgerContext): ProxyMeter {
  const lastPrices = new Map<string, Remembered>();
  const remember = (orgId: string, model: string, terms: Terms) => {
    const key = `${orgId}:${model}`;
    if (Date.now() - (lastPrices.get(key)?.at ?? 0) < REMEMBER_MS) return;
    if (lastPrices.size >= 10_000) lastPrices.clear();
    lastPrices.set(key, { price: terms.price, rates: terms.rates, at: Date.now() });
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
      const amount = parseCredits(held.amount);
      const remaining = parseCredits(held.balance.available);
      const terms = await termsOf(ctx, orgId, request.model).catch(() => null);
      if (terms) remember(orgId, request.model, terms);
      return {
        reservationId: held.id,
        amount,
        remaining,
        quote(usage) {
          const charged = terms ? chargeOf(terms, usage) : null;
          if (!terms || charged === null) return null;
          return {
            charged,
            remaining: remainingAfterCharge({ amount, remaining, fundedBy: held.funded_by }, charged),
            terms: quoteTerms(terms),
          };
        },
      };
    },

    async settle(orgId, reservationId, usage, info, quote) {
      const input = commitUsageOf(usage);
      const done = await commitReservation(
        ctx,
        orgId,
        reservationId,
        input,
        actor(info),
        undefined,
        endedRequestFacts(info, 'ok'),
        quote && { amount: quote.charged, facts: pricedUsageFacts(input.usage!, quotedTerms(quote.terms)) },
      );
      return { charged: parseCredits(done.charged), remaining: parseCredits(done.balance.available) };
    },

    async cancel(orgId, reservationId, info, outcome = 'failed') {
      try {
        await releaseReservation(ctx, orgId, reservationId, actor(info), undefined, outcome === 'failed' ? endedRequestFacts(info, 'error') : undefined);
      } catch (err) {
        // Already settled or released (a repeated cancel) is fine; anything else is not.
        if (!(err instanceof AppError && err.code.startsWith('reservation_'))) throw err;
      }
    },

    priceOffline(orgId, usage: MeteredUsage) {
      const known = lastPrices.get(`${orgId}:${usage.model}`);
      return known ? chargeOf(known, usage) : null;
    },
  };
}

/** The price versions of a quote, as a usage record names them. */
export function quotedTerms(terms: Record<string, string | null>) {
  const { provider, price_version_id, org_price_version_id } = terms;
  if (typeof provider !== 'string' || typeof price_version_id !== 'string') throw new AppError('validation_failed', 'The quote names no price version');
  return { provider, price_version_id, org_price_version_id: typeof org_price_version_id === 'string' ? org_price_version_id : null };
}

const holder = globalThis as unknown as { __creditsPricedMeter?: ProxyMeter };

/** The process's priced meter over its ledger context (one object: the proxy's wiring is cached by meter). */
export function getPricedMeter(ctx: LedgerContext): ProxyMeter {
  holder.__creditsPricedMeter ??= pricedMeter(ctx);
  return holder.__creditsPricedMeter;
}
