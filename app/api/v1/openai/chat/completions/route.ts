import { proxyRoute } from '@/lib/proxy/handle.ts';
import { productionProxyDeps } from '@/lib/proxy/runtime.ts';

export const dynamic = 'force-dynamic';

/** OpenAI-compatible chat completions, streaming or not, metered per request (see lib/proxy). */
export const POST = proxyRoute('chat.completions', productionProxyDeps);
