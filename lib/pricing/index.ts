/**
 * Pricing: what an LLM request costs an org, in micro-credits.
 *
 * What it owns
 * - The price catalog: price versions (the global catalog, seeded once per release of the bundled
 *   @pydantic/genai-prices data, and each org's own versions) with model prices matched by rule on the model
 *   name (catalog.ts, catalog-source.ts, match.ts).
 * - An org's pricing: credits per USD (default 100, i.e. 1 credit = USD 0.01), markup or discount in basis
 *   points, volume discounts by what the org was charged in the calendar month, estimate margin and output
 *   cap, overrides and custom models, a default price for unknown models (org-prices.ts, org-overrides.ts).
 * - Reading prices for the dashboard (browse.ts).
 * - The cost calculator (calculate.ts, price-usage.ts) and token estimates before a call (estimate.ts).
 *
 * Invariants
 * - Prices are exact integers of nano-USD per million tokens, never floats; a charge is computed exactly and
 *   rounded up to a whole micro-credit once, at the end.
 * - Prices are positive (a database CHECK and the API's schemas); a model no version prices is refused with
 *   422 unknown_model unless the org has a default price.
 * - Versions are immutable and carry an effective time: a price is looked up "as of" the time of use, and a
 *   usage record names the version it was priced by, so a later change never rewrites history.
 * - Lookups are cached in-process for at most 5 seconds (lists of versions) or, for a version's prices, which
 *   never change, until evicted.
 */
export { calculateCharge, chargeAmount, usageTokensSchema, type ChargeBreakdown, type UsageTokens } from './calculate.ts';
export {
  DEFAULT_ESTIMATE_MARGIN_BPS,
  DEFAULT_ESTIMATE_OUTPUT_CAP,
  DEFAULT_MICROS_PER_USD,
  ensureGlobalCatalog,
  findModelPrice,
  pricingAsOf,
  type PricingContext,
} from './catalog.ts';
export { createOrgPriceVersion, orgPricingInputSchema, type OrgPricingInput } from './org-prices.ts';
export { modelUsageSchema, priceUsage, type ModelUsage, type PricedUsage } from './price-usage.ts';
