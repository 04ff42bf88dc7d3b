/**
 * A whole proxy for tests and benchmarks: the fake upstream as the default upstream, the proxy routes served
 * on 127.0.0.1 (ephemeral port) over a database, metered through the real ledger by the fixed-rate meter or
 * the one given (the production priced meter, say).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../db/client.ts';
import { createPgPool } from '../../db/pg.ts';
import { logger } from '../../http/logger.ts';
import { pgRunner } from '../../ledger/apply.ts';
import { LedgerCoalescer } from '../../ledger/coalescer.ts';
import type { LedgerContext } from '../../ledger/context.ts';
import { type BreakerOptions, defaultBreakerOptions, UpstreamBreakers } from '../circuit-breaker.ts';
import { UnmeteredGuard } from '../degradation.ts';
import { SettlementJournal } from '../settlement-journal.ts';
import { proxyRoute, type ProxyDeps } from '../handle.ts';
import type { ProxyMeter } from '../meter.ts';
import { ClaimedRateLimiter } from '../claimed-rate-limits.ts';
import { ProxyRateLimiter } from '../rate-limits.ts';
import { masterKey } from '../secret-box.ts';
import { defaultUpstreamFrom } from '../upstream-routing.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { fixedRateMeter, type FixedRates } from './fixed-rate-meter.ts';
import { serveRoutes } from './serve.ts';

export const testRates: FixedRates = { input: 10n, cachedInput: 5n, output: 30n, defaultMaxOutputTokens: 1000 };

export type TestProxy = {
  /** The proxy's OpenAI base URL (ends in /v1). */
  baseUrl: string;
  fake: FakeUpstream;
  ctx: LedgerContext;
  deps: ProxyDeps;
  journalFile: string;
  close(): Promise<void>;
};

export type TestProxyOptions = {
  breaker?: BreakerOptions;
  /** Replaces parts of the wiring (a meter or limiter that fails, say). */
  override?: (deps: ProxyDeps) => Partial<ProxyDeps>;
  /** The meter, given the folder the proxy journals its settlements in. */
  meter?: (ctx: LedgerContext, journalDir: string) => ProxyMeter;
  timeoutMs?: number;
  poolSize?: number;
  /** Serve the routes as the production server does (lib/http/fast-dispatch.ts) instead of as Next.js does. */
  direct?: boolean;
  /** Admit rate limits from claimed capacity, as production does (claimed-rate-limits.ts), instead of per request. */
  claimedLimits?: boolean;
  /**
   * The base URL (ending in /v1) of a fake upstream running elsewhere (fake-upstream-server.ts) to use instead
   * of starting one here; `fake` then only names it (its controls are not available).
   */
  externalUpstream?: string;
};

export async function startTestProxy(db: Db, url: string, options: TestProxyOptions = {}): Promise<TestProxy> {
  const fake = options.externalUpstream ? elsewhere(options.externalUpstream) : await startFakeUpstream({ apiKey: 'sk-upstream' });
  const pool = createPgPool(url, options.poolSize ?? 10);
  const run = pgRunner(pool);
  const ctx: LedgerContext = { db, run, coalescer: new LedgerCoalescer(run) };
  const journalFile = path.join(os.tmpdir(), `credits-unmetered-${randomBytes(6).toString('hex')}.jsonl`);
  const settlementsDir = path.join(os.tmpdir(), `credits-settlements-${randomBytes(6).toString('hex')}`);
  const base: ProxyDeps = {
    db,
    meter: options.meter?.(ctx, settlementsDir) ?? fixedRateMeter(ctx, testRates),
    limiter: options.claimedLimits ? new ClaimedRateLimiter(run) : new ProxyRateLimiter(run),
    upstreams: {
      db,
      keyring: { current: masterKey(randomBytes(32)), previous: [] },
      defaultUpstream: defaultUpstreamFrom({ baseUrl: fake.baseUrl, apiKey: 'sk-upstream' }),
    },
    breakers: new UpstreamBreakers(options.breaker ?? defaultBreakerOptions),
    unmetered: new UnmeteredGuard(journalFile, logger),
    settlements: new SettlementJournal(settlementsDir),
    timeoutMs: options.timeoutMs ?? 10_000,
    defaultMaxOutputTokens: 1000,
  };
  const deps = { ...base, ...options.override?.(base) };
  const served = await serveRoutes({
    '/v1/chat/completions': proxyRoute('chat.completions', deps),
    '/v1/completions': proxyRoute('completions', deps),
    '/v1/embeddings': proxyRoute('embeddings', deps),
    '/v1/models': proxyRoute('models', deps),
  }, { direct: options.direct });
  return {
    baseUrl: `${served.url}/v1`,
    fake,
    ctx,
    deps,
    journalFile,
    close: async () => {
      await served.close();
      await fake.close();
      await deps.meter.close?.();
      await deps.limiter.close?.();
      await pool.end();
      rmSync(base.settlements.dir, { recursive: true, force: true });
    },
  };
}

/** A fake upstream in another process: its address, without the controls of one started here. */
function elsewhere(baseUrl: string): FakeUpstream {
  const unavailable = () => {
    throw new Error('The fake upstream runs in another process');
  };
  return { baseUrl, requests: [], usage: { completionTokens: 12, cachedTokens: 0, reasoningTokens: 0 }, fail: unavailable, recover: unavailable, setLatency: unavailable, close: async () => {} };
}
