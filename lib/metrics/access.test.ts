import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, metricsAccessAllowed } from './access.ts';

const headers = (h: Record<string, string>) => new Headers(h);

describe('isLoopbackAddress', () => {
  it('knows IPv4, IPv6 and mapped loopback', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['10.0.0.1', '0.0.0.0', '::', '192.168.1.2', '128.0.0.1']) expect(isLoopbackAddress(a)).toBe(false);
  });
});

describe('metricsAccessAllowed', () => {
  it('without a token serves loopback clients of a loopback server only', () => {
    const local = { listenHost: '127.0.0.1' };
    expect(metricsAccessAllowed(headers({ 'x-forwarded-for': '127.0.0.1' }), local)).toBe(true);
    expect(metricsAccessAllowed(headers({ 'x-forwarded-for': '::1' }), local)).toBe(true);
    expect(metricsAccessAllowed(headers({ 'x-forwarded-for': '10.1.2.3' }), local)).toBe(false);
    expect(metricsAccessAllowed(headers({ 'x-forwarded-for': '127.0.0.1, 10.1.2.3' }), local)).toBe(false);
    expect(metricsAccessAllowed(headers({}), local)).toBe(false);
    expect(metricsAccessAllowed(headers({ 'x-forwarded-for': '127.0.0.1' }), { listenHost: '0.0.0.0' })).toBe(false);
  });

  it('with a token requires exactly that bearer token, from anywhere', () => {
    const config = { token: 'a-long-metrics-token', listenHost: '0.0.0.0' };
    expect(metricsAccessAllowed(headers({ authorization: 'Bearer a-long-metrics-token' }), config)).toBe(true);
    expect(metricsAccessAllowed(headers({ authorization: 'Bearer a-long-metrics-tokeN' }), config)).toBe(false);
    expect(metricsAccessAllowed(headers({ 'x-forwarded-for': '127.0.0.1' }), config)).toBe(false);
  });
});
