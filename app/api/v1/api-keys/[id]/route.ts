import { revokeApiKey } from '@/lib/auth/api-keys.ts';
import { db } from '@/lib/db/client.ts';
import { json } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';

/** Revokes a key of the caller's org; requests with it are refused from now on. */
export const DELETE = withApiKey<{ id: string }>(['admin'], async (_req, { org, apiKey, params }) => {
  const revoked = await revokeApiKey(db, org.id, params.id, { type: 'api_key', apiKeyId: apiKey.id });
  return json({ id: revoked.id, revoked_at: revoked.revokedAt!.toISOString() });
});
