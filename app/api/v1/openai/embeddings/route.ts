import { proxyRoute } from '@/lib/proxy/handle.ts';
import { productionProxyDeps } from '@/lib/proxy/runtime.ts';

export const dynamic = 'force-dynamic';

/** OpenAI-compatible embeddings, metered per request (see lib/proxy). */
export const POST = proxyRoute('embeddings', productionProxyDeps);
