/**
 * The rate-limit admission and the hold of a proxied request, asked for at once (one round trip of waiting
 * instead of two). When either refuses, the other is undone: a hold is released without a usage record (the
 * request never ran), an admission is ended as a request that used no tokens. A rate-limit refusal wins over
 * a credit refusal, as when the admission came first.
 */
import type { Logger } from '../http/logger.ts';
import type { MeterHold, MeterInfo, ProxyMeter } from './meter.ts';
import type { Admission, RateLimiter, RateLimitSubject } from './rate-limits.ts';
import type { ProxyRequest } from './request.ts';
import type { ProxyLimits } from './settings.ts';

export async function admitAndHold(
  d: { limiter: RateLimiter; meter: ProxyMeter },
  limits: ProxyLimits,
  subject: RateLimitSubject,
  request: ProxyRequest,
  info: MeterInfo,
  log: Logger,
): Promise<{ admission: Admission; hold: MeterHold }> {
  const [admitted, held] = await Promise.allSettled([
    d.limiter.admit(limits, subject, request.tokenEstimate),
    d.meter.hold(subject.orgId, request.user, request.meterRequest, info),
  ]);
  if (admitted.status === 'fulfilled' && held.status === 'fulfilled') return { admission: admitted.value, hold: held.value };
  if (admitted.status === 'fulfilled') {
    await d.limiter.finish(admitted.value, 0).catch((err) => log.error({ err }, 'could not end a rate-limit admission'));
  }
  if (held.status === 'fulfilled') {
    await d.meter
      .cancel(subject.orgId, held.value.reservationId, info, 'refused')
      .catch((err) => log.error({ err, event: 'proxy.cancel_failed', reservationId: held.value.reservationId }, 'could not release a hold'));
  }
  throw admitted.status === 'rejected' ? admitted.reason : (held as PromiseRejectedResult).reason;
}
