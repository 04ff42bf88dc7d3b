/**
 * The proxy's wiring in the app process, from configuration: the default upstream (LLM_UPSTREAM_BASE_URL and
 * LLM_UPSTREAM_API_KEY), the keyring of sealed upstream keys, circuit breakers and rate limits (admitted from
 * claimed capacity, claimed-rate-limits.ts, unless PROXY_RATE_LIMITS says counted) over the process's database pool, and the journals of unmetered requests and of settlements owed, in the data
 * folder. The meter is passed in: route handlers call `proxyRoute(endpoint, () => getProxyDeps(meter))`, so
 * nothing connects before first use.
 */
import path from 'node:path';
import { getDb } from '../db/client.ts';
import { getPgPool } from '../db/pg.ts';
import { getEnv } from '../env.ts';
import { logger } from '../http/logger.ts';
import { pgRunner } from '../ledger/apply.ts';
import { getLedgerContext } from '../ledger/context.ts';
import { UpstreamBreakers } from './circuit-breaker.ts';
import { UnmeteredGuard } from './degradation.ts';
import { SettlementJournal } from './settlement-journal.ts';
import { describeSettlementReport, reconcileSettlementDir } from './settlement-reconcile.ts';
import { settlementsDone, type ProxyDeps } from './handle.ts';
import { getKeyring } from './keyring.ts';
import type { ProxyMeter } from './meter.ts';
import { getLeasedMeter } from './leased-meter.ts';
import { ClaimedRateLimiter } from './claimed-rate-limits.ts';
import { ProxyRateLimiter } from './rate-limits.ts';
import { defaultUpstreamFrom } from './upstream-routing.ts';

/** How long the proxy waits for an upstream's answer, and then for each chunk of a stream. */
export const UPSTREAM_TIMEOUT_MS = 120_000;
/** Output tokens assumed for the token rate limits when a request sets no max_tokens. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

/** Where each app process journals the settlements it owes (settlement-journal.ts). */
export function settlementJournalDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'proxy-settlements');
}

const holder = globalThis as unknown as { __creditsProxy?: Map<ProxyMeter, ProxyDeps> };

export function getProxyDeps(meter: ProxyMeter): ProxyDeps {
  holder.__creditsProxy ??= new Map();
  let deps = holder.__creditsProxy.get(meter);
  if (!deps) {
    const env = getEnv();
    const db = getDb();
    deps = {
      db,
      meter,
      limiter: env.PROXY_RATE_LIMITS === 'counted' ? new ProxyRateLimiter(pgRunner(getPgPool())) : new ClaimedRateLimiter(pgRunner(getPgPool())),
      upstreams: {
        db,
        keyring: getKeyring(),
        defaultUpstream: defaultUpstreamFrom({ baseUrl: env.LLM_UPSTREAM_BASE_URL, apiKey: env.LLM_UPSTREAM_API_KEY }),
      },
      breakers: new UpstreamBreakers(),
      unmetered: new UnmeteredGuard(path.join(path.resolve(env.DATA_DIR), 'proxy-unmetered.jsonl'), logger),
      settlements: new SettlementJournal(settlementJournalDir(env.DATA_DIR)),
      timeoutMs: UPSTREAM_TIMEOUT_MS,
      defaultMaxOutputTokens: DEFAULT_MAX_OUTPUT_TOKENS,
    };
    holder.__creditsProxy.set(meter, deps);
    // Settlements that stopped processes journaled and may not have committed, before their holds expire.
    reconcileSettlementDir(meter, deps.settlements.dir, { onlyStopped: true }).then(
      (report) => {
        if (report.settled + report.leasesReleased + report.refused.length + report.failed.length + report.unreadable > 0) {
          logger.warn({ event: 'proxy.settlements_reconciled', ...report }, describeSettlementReport(report));
        }
      },
      (err: unknown) => logger.error({ err, event: 'proxy.settlements_reconcile_failed' }, 'could not reconcile journaled settlements'),
    );
  }
  return deps;
}

/**
 * The proxy of this process as the routes serve it: priced through the ledger, holds taken from leases
 * (leased-meter.ts).
 */
export function productionProxyDeps(): ProxyDeps {
  return getProxyDeps(getLeasedMeter(getLedgerContext(), settlementJournalDir(getEnv().DATA_DIR)));
}

/**
 * Graceful shutdown: settles the proxied requests still running, then has each meter charge what it owes and
 * release its leases, and each rate limiter give back the slots it holds.
 */
export async function closeProxy(): Promise<void> {
  await settlementsDone();
  for (const [meter, deps] of holder.__creditsProxy ?? []) {
    await meter.close?.();
    await deps.limiter.close?.();
  }
}
