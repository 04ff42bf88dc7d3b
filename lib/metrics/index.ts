/**
 * Prometheus metrics of the process: one registry (registry.ts), request metrics of route handlers by route
 * pattern (http.ts), and who may read them (access.ts). Invariant: label values come from bounded sets
 * (route patterns, operation names, upstream names, states), never from raw paths or ids.
 */
export { getMetrics, type Metrics } from './registry.ts';
export { observeHttpRequest, routePattern } from './http.ts';
export { metricsAccessAllowed } from './access.ts';
