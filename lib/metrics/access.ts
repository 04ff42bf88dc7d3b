/**
 * Who may read /api/metrics. With METRICS_TOKEN set: whoever sends `Authorization: Bearer <token>`. Without
 * it: requests from loopback only, and only when the server itself listens on a loopback address. Next.js
 * gives route handlers no socket address, only the `X-Forwarded-For` it fills from the socket when the client
 * sent none; a client could send its own, so the header is trusted only when no other host can reach the
 * server. A server listening on a public address must set METRICS_TOKEN to expose metrics.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const loopbackAddresses = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1', 'localhost']);

export function isLoopbackAddress(address: string): boolean {
  const a = address.trim().replace(/^\[|\]$/g, '');
  return loopbackAddresses.has(a) || /^127\.\d+\.\d+\.\d+$/.test(a) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function metricsAccessAllowed(headers: Headers, config: { token?: string; listenHost: string }): boolean {
  if (config.token) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
    return Boolean(match && sameSecret(match[1], config.token));
  }
  if (!isLoopbackAddress(config.listenHost)) return false;
  const forwarded = headers.get('x-forwarded-for');
  if (!forwarded) return false;
  return forwarded.split(',').every((part) => isLoopbackAddress(part));
}
