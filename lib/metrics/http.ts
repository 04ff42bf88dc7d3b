/**
 * Request metrics of route handlers. Routes are labelled by their pattern (`/api/v1/reservations/[id]`), never
 * the raw path, so the number of series stays bounded: the pattern is the path with each segment that equals
 * a route parameter replaced by the parameter's name.
 */
import { getMetrics } from './registry.ts';

type Params = Record<string, string | string[] | undefined>;

export function routePattern(path: string, params: Params): string {
  const names = new Map<string, string>();
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string') names.set(encodeURIComponent(value), `[${name}]`);
    else if (Array.isArray(value)) for (const v of value) names.set(encodeURIComponent(v), `[...${name}]`);
  }
  if (names.size === 0) return path;
  const out: string[] = [];
  for (const segment of path.split('/')) {
    const name = names.get(segment);
    // A catch-all parameter covers several segments; it appears once in the pattern.
    if (name && out[out.length - 1] === name) continue;
    out.push(name ?? segment);
  }
  return out.join('/');
}

export function observeHttpRequest(method: string, path: string, params: Params, status: number, seconds: number): void {
  const metrics = getMetrics();
  const route = routePattern(path, params);
  metrics.httpRequests.inc({ method, route, status: String(status) });
  metrics.httpDuration.observe({ method, route }, seconds);
}
