import { chatCompletionsPost } from '@/lib/proxy/routes.ts';

export const dynamic = 'force-dynamic';

/** OpenAI-compatible chat completions, streaming or not, metered per request (see lib/proxy). */
export const POST = chatCompletionsPost;
