import { embeddingsPost } from '@/lib/proxy/routes.ts';

export const dynamic = 'force-dynamic';

/** OpenAI-compatible embeddings, metered per request (see lib/proxy). */
export const POST = embeddingsPost;
