import { z } from 'zod';
import { apiKeyNameSchema, apiKeyScopesSchema, type ApiKeyView, createApiKey, listApiKeys } from '@/lib/auth/api-keys.ts';
import { db } from '@/lib/db/client.ts';
import { readIdempotency, withIdempotentEffect } from '@/lib/http/idempotency.ts';
import { json, readJson } from '@/lib/http/route.ts';
import { withApiKey } from '@/lib/http/with-api-key.ts';

const createApiKeyBodySchema = z.object({ name: apiKeyNameSchema, scopes: apiKeyScopesSchema });

function toDto(key: ApiKeyView) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}

export const GET = withApiKey(['admin'], async (_req, { org }) => {
  const keys = await listApiKeys(db, org.id);
  return json({ data: keys.map(toDto) });
});

/**
 * The clear key is in this response only; it cannot be retrieved again. A repeat with the same Idempotency-Key
 * answers the same key record with `key: null`, because the clear key is never stored.
 */
export const POST = withApiKey(['admin'], async (req, { org, apiKey }) => {
  const body = await readJson(req, createApiKeyBodySchema);
  const answer = await withIdempotentEffect(db, org.id, readIdempotency(req, body), async (tx) => {
    const created = await createApiKey(
      tx,
      { orgId: org.id, name: body.name, scopes: body.scopes },
      { type: 'api_key', apiKeyId: apiKey.id },
    );
    const dto = toDto(created.apiKey);
    return { status: 201, body: { ...dto, key: created.key }, replayBody: { ...dto, key: null } };
  });
  return json(answer.body, answer.status);
});
