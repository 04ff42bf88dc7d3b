import { getEnv } from '@/lib/env';
import { AppError } from '@/lib/http/errors';
import { route } from '@/lib/http/route';
import { metricsAccessAllowed } from '@/lib/metrics/access';
import { getMetrics } from '@/lib/metrics/registry';

export const dynamic = 'force-dynamic';

export const GET = route(async (req) => {
  const env = getEnv();
  if (!metricsAccessAllowed(req.headers, { token: env.METRICS_TOKEN, listenHost: env.HOST })) {
    throw new AppError('forbidden', 'Metrics are served to loopback or with the metrics token');
  }
  const { registry } = getMetrics();
  return new Response(await registry.metrics(), {
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
  });
});
