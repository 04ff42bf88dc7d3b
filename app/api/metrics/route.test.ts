import { describe, expect, it } from 'vitest';
import { GET } from './route.ts';

const call = (headers: Record<string, string>) =>
  GET(new Request('http://localhost/api/metrics', { headers }), { params: Promise.resolve({}) });

describe('GET /api/metrics', () => {
  it('serves Prometheus text to a loopback client when no token is configured', async () => {
    const res = await call({ 'x-forwarded-for': '127.0.0.1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('credits_http_requests_total');
  });

  it('refuses other clients', async () => {
    const res = await call({ 'x-forwarded-for': '203.0.113.9' });
    expect(res.status).toBe(403);
  });
});
