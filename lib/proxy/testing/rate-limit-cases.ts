/**
 * What the rate-limit tests share (rate-limits.db.test.ts, claimed-rate-limits.db.test.ts): limits that
 * limit nothing, a fresh subject, and the outcomes of a burst of admissions.
 */
import { randomUUID } from 'node:crypto';
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
