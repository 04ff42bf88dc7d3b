/**
 * The OpenAI-compatible proxy: forwards chat completions, completions, embeddings and model listings to an
 * upstream and meters each call through a ProxyMeter.
 *
 * What it owns
 * - Upstreams: the configured default and each org's own (proxy_upstreams), their API keys sealed with
 *   AES-256-GCM under a master key whose id is stored with each value; routing of a model to the upstream
 *   whose patterns match it most closely.
 * - Forwarding: one circuit breaker per upstream, keep-alive http(s) agents, streams passed on event by event with
 *   the final usage asked from the upstream, timeouts, client disconnects.
 * - Rate limits (proxy_rate_windows, proxy_concurrency_slots) and per-org settings (proxy_settings,
 *   proxy_key_limits), the degradation policy and the journal of unmetered requests.
 *
 * Invariants
 * - Every request that reaches an upstream metered has exactly one hold, resolved exactly once: settled with
 *   the usage (completed, or the consumed part when the client left) or cancelled (upstream failure, nothing
 *   forwarded). A hold whose settlement could not be written expires by the ledger's own rules.
 * - A request refused (validation, rate limit, credits) reaches no upstream. The admission and the hold are
 *   asked for at once: one refused by a rate limit leaves no count behind and its hold is released without a
 *   usage record; one refused for credits counts as a request that used no tokens.
 * - Stored upstream keys never leave the module in a view; only their last four characters do.
 * - Errors have OpenAI's shape; statuses come from the one code table of lib/http/errors.ts.
 *
 * Why the limits hold across instances: capacity is claimed in PostgreSQL, each claim one statement with
 * rows locked in bucket order (the rate-limit claims migration), and an instance admits only from what it
 * claimed (claimed-rate-limits.ts). Why a hold taken in memory is exact: it is set aside from a lease, a hold
 * in the ledger of the member's own credits (leased-meter.ts).
 */
export { proxyRoute, settlementsDone, type ProxyDeps } from './handle.ts';
export type { MeteredUsage, MeterHold, MeterInfo, MeterRequest, MeterSettlement, ProxyEndpoint, ProxyMeter } from './meter.ts';
export { getProxyDeps } from './runtime.ts';
