/**
 * The proxy's route handlers, defined once: mounted under app/api/v1/openai by Next and served directly by the
 * production server (lib/http/fast-dispatch.ts), which skips Next's router for them.
 */
import type { FastRoute } from '../http/fast-dispatch.ts';
import { proxyRoute } from './handle.ts';
import { productionProxyDeps } from './runtime.ts';

/** POST /api/v1/openai/chat/completions: chat completions, streaming or not. */
export const chatCompletionsPost = proxyRoute('chat.completions', productionProxyDeps);
/** POST /api/v1/openai/completions: (legacy) completions, streaming or not. */
export const completionsPost = proxyRoute('completions', productionProxyDeps);
/** POST /api/v1/openai/embeddings. */
export const embeddingsPost = proxyRoute('embeddings', productionProxyDeps);
/** GET /api/v1/openai/models: the models the key's org can reach through the proxy. */
export const modelsGet = proxyRoute('models', productionProxyDeps);

export const proxyFastRoutes = [
  { method: 'POST', path: '/api/v1/openai/chat/completions', handler: chatCompletionsPost },
  { method: 'POST', path: '/api/v1/openai/completions', handler: completionsPost },
  { method: 'POST', path: '/api/v1/openai/embeddings', handler: embeddingsPost },
  { method: 'GET', path: '/api/v1/openai/models', handler: modelsGet },
] as FastRoute[];
