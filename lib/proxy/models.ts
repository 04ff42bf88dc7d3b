/**
 * GET /models through the proxy: the models of every upstream the org may use, each filtered by the patterns
 * its upstream serves for the org and merged by id (the first upstream naming a model wins). Upstreams that
 * fail are left out; when all fail the answer is 502.
 */
import { AppError } from '../http/errors.ts';
import type { UpstreamBreakers } from './circuit-breaker.ts';
import { forward } from './forward.ts';
import { candidateUpstreams, matchesModel, type UpstreamSource } from './upstream-routing.ts';

type ModelEntry = { id: string; [key: string]: unknown };

export async function listProxyModels(
  source: UpstreamSource,
  breakers: UpstreamBreakers,
  orgId: string,
  clientSignal: AbortSignal,
  timeoutMs: number,
): Promise<{ object: 'list'; data: ModelEntry[] }> {
  const upstreams = await candidateUpstreams(source, orgId);
  if (upstreams.length === 0) throw new AppError('unavailable', 'No upstream is configured');
  const lists = await Promise.all(
    upstreams.map(async (upstream) => {
      try {
        const result = await forward({ upstream, path: '/models', method: 'GET', clientSignal, breakers, timeoutMs });
        if (result.kind !== 'json') return null;
        const data = (JSON.parse(result.text) as { data?: ModelEntry[] }).data ?? [];
        return data.filter((m) => typeof m?.id === 'string' && upstream.modelPatterns.some((p) => matchesModel(p, m.id)));
      } catch {
        return null;
      }
    }),
  );
  if (lists.every((l) => l === null)) throw new AppError('upstream_error', 'No upstream answered');
  const seen = new Set<string>();
  const data: ModelEntry[] = [];
  for (const model of lists.flatMap((l) => l ?? [])) {
    if (seen.has(model.id)) continue;
    seen.add(model.id);
    data.push(model);
  }
  return { object: 'list', data };
}
