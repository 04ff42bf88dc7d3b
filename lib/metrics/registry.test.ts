import { describe, expect, it } from 'vitest';
import { createMetrics } from './registry.ts';

describe('createMetrics', () => {
  it('exposes process metrics and the product metrics in Prometheus text format', async () => {
    const metrics = createMetrics();
    metrics.ledgerOps.inc({ op: 'reserve', outcome: 'ok' });
    metrics.upstreamDuration.observe({ upstream: 'default' }, 0.12);
    metrics.upstreamErrors.inc({ upstream: 'default', kind: 'timeout' });
    metrics.breakerState.set({ upstream: 'default' }, 2);
    const text = await metrics.registry.metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('credits_ledger_operations_total{op="reserve",outcome="ok"} 1');
    expect(text).toContain('credits_upstream_request_duration_seconds_bucket{le="0.25",upstream="default"} 1');
    expect(text).toContain('credits_upstream_errors_total{upstream="default",kind="timeout"} 1');
    expect(text).toContain('credits_circuit_breaker_state{upstream="default"} 2');
    expect(text).toMatch(/credits_db_pool_connections\{state="waiting"\} \d+/);
    expect(metrics.registry.contentType).toMatch(/^text\/plain/);
  });
});
