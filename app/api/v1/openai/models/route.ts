import { proxyRoute } from '@/lib/proxy/handle.ts';
import { productionProxyDeps } from '@/lib/proxy/runtime.ts';

export const dynamic = 'force-dynamic';

/** The models the key's org can reach through the proxy (its upstreams' and the default upstream's). */
export const GET = proxyRoute('models', productionProxyDeps);
