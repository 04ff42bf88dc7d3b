'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import { db } from '@/lib/db/client';
import { getKeyring } from '@/lib/proxy/keyring';
import { forgetProxySettings, saveKeyLimits, saveProxySettings } from '@/lib/proxy/settings';
import { forgetOrgUpstreams } from '@/lib/proxy/upstream-routing';
import {
  createUpstream,
  deleteUpstream,
  modelPatternsSchema,
  setUpstreamEnabled,
  updateUpstream,
  upstreamApiKeySchema,
  upstreamBaseUrlSchema,
  upstreamNameSchema,
} from '@/lib/proxy/upstreams';

const fields = { name: upstreamNameSchema, baseUrl: upstreamBaseUrlSchema, modelPatterns: modelPatternsSchema };
const idSchema = z.string().trim().min(1);

function changed(org: { id: string; slug: string }) {
  forgetOrgUpstreams(org.id);
  revalidatePath(`/${org.slug}/upstreams`);
}

export const createUpstreamAction = orgAction(
  'upstreams:manage',
  z.object({ ...fields, apiKey: upstreamApiKeySchema }),
  async (input, ctx) => {
    const upstream = await createUpstream(db, getKeyring(), ctx.org.id, input, { type: 'user', userId: ctx.user.id });
    changed(ctx.org);
    return { ok: true as const, message: `Upstream “${upstream.name}” added.` };
  },
);

export const updateUpstreamAction = orgAction(
  'upstreams:manage',
  z.object({ ...fields, upstreamId: idSchema, apiKey: upstreamApiKeySchema.optional() }),
  async ({ upstreamId, ...input }, ctx) => {
    const upstream = await updateUpstream(db, getKeyring(), ctx.org.id, upstreamId, input, { type: 'user', userId: ctx.user.id });
    changed(ctx.org);
    return { ok: true as const, message: `Upstream “${upstream.name}” saved.` };
  },
);

export const setUpstreamEnabledAction = orgAction(
  'upstreams:manage',
  z.object({ upstreamId: idSchema, enabled: z.enum(['true', 'false']).transform((v) => v === 'true') }),
  async ({ upstreamId, enabled }, ctx) => {
    await setUpstreamEnabled(db, ctx.org.id, upstreamId, enabled, { type: 'user', userId: ctx.user.id });
    changed(ctx.org);
    return null;
  },
);

export const deleteUpstreamAction = orgAction(
  'upstreams:manage',
  z.object({ upstreamId: idSchema }),
  async ({ upstreamId }, ctx) => {
    await deleteUpstream(db, ctx.org.id, upstreamId, { type: 'user', userId: ctx.user.id });
    changed(ctx.org);
    return null;
  },
);

const limitField = z.coerce.number().int('Enter a whole number').min(1, 'At least 1, or leave empty for no limit').max(1_000_000_000).optional();

export const saveProxySettingsAction = orgAction(
  'upstreams:manage',
  z.object({
    keyRequestsPerMinute: limitField,
    keyTokensPerMinute: limitField,
    keyConcurrentRequests: limitField,
    userRequestsPerMinute: limitField,
    userTokensPerMinute: limitField,
    userConcurrentRequests: limitField,
    degradation: z.enum(['fail_closed', 'fail_open']),
    failOpenUserCap: z.string().trim().optional(),
  }),
  async (input, ctx) => {
    await saveProxySettings(
      db,
      ctx.org.id,
      {
        keyRequestsPerMinute: input.keyRequestsPerMinute ?? null,
        keyTokensPerMinute: input.keyTokensPerMinute ?? null,
        keyConcurrentRequests: input.keyConcurrentRequests ?? null,
        userRequestsPerMinute: input.userRequestsPerMinute ?? null,
        userTokensPerMinute: input.userTokensPerMinute ?? null,
        userConcurrentRequests: input.userConcurrentRequests ?? null,
        degradation: input.degradation,
        failOpenUserCap: input.failOpenUserCap ?? '0',
      },
      { type: 'user', userId: ctx.user.id },
    );
    forgetProxySettings();
    revalidatePath(`/${ctx.org.slug}/upstreams`);
    return { ok: true as const, message: 'Proxy settings saved.' };
  },
);

export const saveKeyLimitsAction = orgAction(
  'upstreams:manage',
  z.object({ apiKeyId: idSchema, requestsPerMinute: limitField, tokensPerMinute: limitField, concurrentRequests: limitField }),
  async ({ apiKeyId, ...limits }, ctx) => {
    await saveKeyLimits(
      db,
      ctx.org.id,
      apiKeyId,
      {
        requestsPerMinute: limits.requestsPerMinute ?? null,
        tokensPerMinute: limits.tokensPerMinute ?? null,
        concurrentRequests: limits.concurrentRequests ?? null,
      },
      { type: 'user', userId: ctx.user.id },
    );
    forgetProxySettings();
    revalidatePath(`/${ctx.org.slug}/upstreams`);
    return { ok: true as const, message: 'Limits of the key saved.' };
  },
);

export const removeKeyLimitsAction = orgAction('upstreams:manage', z.object({ apiKeyId: idSchema }), async ({ apiKeyId }, ctx) => {
  await saveKeyLimits(db, ctx.org.id, apiKeyId, null, { type: 'user', userId: ctx.user.id });
  forgetProxySettings();
  revalidatePath(`/${ctx.org.slug}/upstreams`);
  return null;
});
