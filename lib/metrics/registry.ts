/**
 * Prometheus metrics of this process: one registry holding the default process metrics and the product's own
 * (HTTP requests by route pattern, ledger holds/commits/releases, the proxy's holds and settlements (also those
 * of leases, which make no ledger operation of their own), upstream latency and errors, circuit
 * breaker states, database pool use). The registry lives on globalThis so hot reloads in development do not
 * register the same metric twice. Recording is a label lookup and an increment: cheap enough for hot paths.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { peekPgPool } from '../db/pg.ts';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'credits_http_requests_total',
      help: 'HTTP requests by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'credits_http_request_duration_seconds',
      help: 'HTTP request duration by method and route pattern.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    ledgerOps: new Counter({
      name: 'credits_ledger_operations_total',
      help: 'Ledger operations (reserve = hold, commit, release, usage) by outcome.',
      labelNames: ['op', 'outcome'] as const,
      registers,
    }),
    proxyHolds: new Counter({
      name: 'credits_proxy_holds_total',
      help: 'Holds of proxied calls by outcome (held; refused: not enough credits; rate_limited), from a lease or alone.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    proxySettlements: new Counter({
      name: 'credits_proxy_settlements_total',
      help: 'Proxied calls settled by outcome (charged; released: the upstream failed; failed: left to reconcile).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: 'credits_upstream_request_duration_seconds',
      help: 'Time from sending a request to an upstream until its response headers arrived.',
      labelNames: ['upstream'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'credits_upstream_errors_total',
      help: 'Failed upstream requests by upstream and kind (status, timeout, network, circuit_open, stream).',
      labelNames: ['upstream', 'kind'] as const,
      registers,
    }),
    breakerState: new Gauge({
      name: 'credits_circuit_breaker_state',
      help: 'Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.',
      labelNames: ['upstream'] as const,
      registers,
    }),
    dbPool: new Gauge({
      name: 'credits_db_pool_connections',
      help: 'Connections of the ledger database pool of this process: total, idle, and waiting requests.',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const pool = peekPgPool();
        this.set({ state: 'total' }, pool?.totalCount ?? 0);
        this.set({ state: 'idle' }, pool?.idleCount ?? 0);
        this.set({ state: 'waiting' }, pool?.waitingCount ?? 0);
      },
    }),
  };
}

const holder = globalThis as unknown as { __creditsMetrics?: Metrics };

/** The process's metrics, created on first use. */
export function getMetrics(): Metrics {
  holder.__creditsMetrics ??= createMetrics();
  return holder.__creditsMetrics;
}
