import { completionsPost } from '@/lib/proxy/routes.ts';

export const dynamic = 'force-dynamic';

/** OpenAI-compatible (legacy) completions, streaming or not, metered per request (see lib/proxy). */
export const POST = completionsPost;
