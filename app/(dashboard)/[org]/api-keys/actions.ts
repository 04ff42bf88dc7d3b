'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import { apiKeyNameSchema, apiKeyScopesSchema, createApiKey, revokeApiKey } from '@/lib/auth/api-keys';
import { db } from '@/lib/db/client';

/** Checkboxes: none ticked sends nothing, one ticked a single value, several an array. */
const scopesFromForm = z.preprocess(
  (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]),
  apiKeyScopesSchema,
);

export const createApiKeyAction = orgAction(
  'api_keys:manage',
  z.object({ name: apiKeyNameSchema, scopes: scopesFromForm }),
  async ({ name, scopes }, ctx) => {
    const { apiKey, key } = await createApiKey(
      db,
      { orgId: ctx.org.id, name, scopes, createdById: ctx.user.id },
      { type: 'user', userId: ctx.user.id },
    );
    revalidatePath(`/${ctx.org.slug}/api-keys`);
    return { name: apiKey.name, prefix: apiKey.prefix, key };
  },
);

export const revokeApiKeyAction = orgAction(
  'api_keys:manage',
  z.object({ apiKeyId: z.string().trim().min(1) }),
  async ({ apiKeyId }, ctx) => {
    await revokeApiKey(db, ctx.org.id, apiKeyId, { type: 'user', userId: ctx.user.id });
    revalidatePath(`/${ctx.org.slug}/api-keys`);
    return null;
  },
);
