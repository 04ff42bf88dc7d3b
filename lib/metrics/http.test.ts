import { describe, expect, it } from 'vitest';
import { observeHttpRequest, routePattern } from './http.ts';
import { getMetrics } from './registry.ts';

describe('routePattern', () => {
  it('keeps paths without parameters', () => {
    expect(routePattern('/api/v1/balance', {})).toBe('/api/v1/balance');
  });

  it('names parameter segments instead of their values', () => {
    const id = '0190b1c2-0000-7000-8000-000000000001';
    expect(routePattern(`/api/v1/reservations/${id}/commit`, { id })).toBe('/api/v1/reservations/[id]/commit');
    expect(routePattern('/api/orgs/acme/members', { org: 'acme' })).toBe('/api/orgs/[org]/members');
  });

  it('collapses a catch-all parameter into one segment', () => {
    expect(routePattern('/api/auth/callback/github', { nextauth: ['callback', 'github'] })).toBe('/api/auth/[...nextauth]');
  });
});

describe('observeHttpRequest', () => {
  it('counts by pattern and status and records the duration', async () => {
    const id = '0190b1c2-0000-7000-8000-000000000002';
    observeHttpRequest('POST', `/api/v1/reservations/${id}/release`, { id }, 200, 0.004);
    observeHttpRequest('POST', `/api/v1/reservations/${id}x/release`, { id: `${id}x` }, 404, 0.002);
    const text = await getMetrics().registry.metrics();
    expect(text).toContain('credits_http_requests_total{method="POST",route="/api/v1/reservations/[id]/release",status="200"} 1');
    expect(text).toContain('credits_http_requests_total{method="POST",route="/api/v1/reservations/[id]/release",status="404"} 1');
    expect(text).toContain('credits_http_request_duration_seconds_count{method="POST",route="/api/v1/reservations/[id]/release"} 2');
    expect(text).not.toContain(id);
  });
});
