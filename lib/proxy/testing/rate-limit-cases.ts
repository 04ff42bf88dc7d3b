/**
 * What the rate-limit tests share (rate-limits.db.test.ts, claimed-rate-limits.db.test.ts): limits that
 * limit nothing, a fresh subject, the outcomes of a burst of admissions, and a race of two processes.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { spawnBurst } from '../../test/child-burst.ts';
import type { RateLimitSubject } from '../rate-limits.ts';
import type { ProxyLimits } from '../settings.ts';

export const unlimited: ProxyLimits = {
  keyRequestsPerMinute: null,
  keyTokensPerMinute: null,
  keyConcurrentRequests: null,
  userRequestsPerMinute: null,
  userTokensPerMinute: null,
  userConcurrentRequests: null,
};

/** An API key of an org of its own, and its user ada. */
export const subject = (): RateLimitSubject => ({ orgId: randomUUID(), apiKeyId: randomUUID(), user: 'ada' });

/** How many admissions succeeded, and the errors of the refused ones. */
export async function outcomes(promises: Promise<unknown>[]) {
  const settled = await Promise.allSettled(promises);
  return {
    admitted: settled.filter((s) => s.status === 'fulfilled').length,
    refused: settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : [])),
  };
}

/**
 * Two processes (admit-burst.ts, each with its own pool and limiter) ask for 40 admissions at the same moment
 * under a limit of 30 requests a minute: how many were admitted and refused in all.
 */
export async function twoProcessRace(url: string, limiter: 'counted' | 'claimed') {
  const limits = { ...unlimited, keyRequestsPerMinute: 30 };
  const args = [url, JSON.stringify(limits), JSON.stringify(subject()), '40', ...(limiter === 'claimed' ? ['claimed'] : [])];
  const bursts = [0, 1].map(() => spawnBurst<{ admitted: number; refused: number }>(path.join(import.meta.dirname, 'admit-burst.ts'), args));
  await Promise.all(bursts.map((b) => b.ready));
  bursts.forEach((b) => b.go());
  const results = await Promise.all(bursts.map((b) => b.done));
  return { admitted: results.reduce((n, r) => n + r.admitted, 0), refused: results.reduce((n, r) => n + r.refused, 0) };
}
