import { json } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';

/** Which org and key a request authenticates as; lets an integration check its configuration. */
export const GET = withApiKey(['admin', 'meter', 'read'], async (_req, { org, apiKey }) =>
  json({
    org: { id: org.id, slug: org.slug, name: org.name },
    api_key: { id: apiKey.id, prefix: apiKey.prefix, scopes: apiKey.scopes },
  }),
);
