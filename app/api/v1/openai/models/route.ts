import { modelsGet } from '@/lib/proxy/routes.ts';

export const dynamic = 'force-dynamic';

/** The models the key's org can reach through the proxy (its upstreams' and the default upstream's). */
export const GET = modelsGet;
