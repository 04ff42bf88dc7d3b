/**
 * An org's proxy settings: rate limits per API key and per end user (requests and tokens per minute,
 * requests in flight; null is unlimited), optionally replaced for one key, and what to do when the credit
 * database is unreachable. Orgs without a settings row get `defaultProxySettings`. Settings are remembered
 * for a few seconds per key, and the last ones read stay known while the database is unreachable, so the
 * degradation policy can be applied then.
 */
import { z } from 'zod';
import { type Actor, recordAudit } from '../auth/actor.ts';
import { AppError } from '../http/errors.ts';
import { nonNegativeCreditsSchema } from '../money/credits.ts';
import { RefreshingMemory, SETTINGS_STALE_MS } from '../ops/refreshing-memory.ts';
import { type DbOrTx, withTransaction } from '../users/create-user.ts';

export type ProxyLimits = {
  keyRequestsPerMinute: number | null;
  keyTokensPerMinute: number | null;
  keyConcurrentRequests: number | null;
  userRequestsPerMinute: number | null;
  userTokensPerMinute: number | null;
  userConcurrentRequests: number | null;
};

export type Degradation = 'fail_closed' | 'fail_open';
export type ProxySettings = { limits: ProxyLimits; degradation: Degradation; failOpenUserCap: bigint };

export const defaultProxySettings: ProxySettings = {
  limits: {
    keyRequestsPerMinute: 600,
    keyTokensPerMinute: 2_000_000,
    keyConcurrentRequests: 100,
    userRequestsPerMinute: 60,
    userTokensPerMinute: 200_000,
    userConcurrentRequests: 5,
  },
  degradation: 'fail_closed',
  failOpenUserCap: 0n,
};

const limit = z.number().int().min(1).max(1_000_000_000).nullable();
export const proxySettingsInputSchema = z.object({
  keyRequestsPerMinute: limit,
  keyTokensPerMinute: limit,
  keyConcurrentRequests: limit,
  userRequestsPerMinute: limit,
  userTokensPerMinute: limit,
  userConcurrentRequests: limit,
  degradation: z.enum(['fail_closed', 'fail_open']),
  failOpenUserCap: nonNegativeCreditsSchema,
});
export type ProxySettingsInput = z.input<typeof proxySettingsInputSchema>;

export const keyLimitsInputSchema = z.object({ requestsPerMinute: limit, tokensPerMinute: limit, concurrentRequests: limit });

/** The org's own settings, or the defaults when it has none. */
export async function getOrgProxySettings(db: DbOrTx, orgId: string): Promise<ProxySettings> {
  return orgSettings(await db.proxySettings.findUnique({ where: { orgId } }));
}

type SettingsRow = Awaited<ReturnType<DbOrTx['proxySettings']['findUnique']>>;

function orgSettings(org: SettingsRow): ProxySettings {
  if (!org) return defaultProxySettings;
  return {
    limits: {
      keyRequestsPerMinute: org.keyRequestsPerMinute,
      keyTokensPerMinute: org.keyTokensPerMinute,
      keyConcurrentRequests: org.keyConcurrentRequests,
      userRequestsPerMinute: org.userRequestsPerMinute,
      userTokensPerMinute: org.userTokensPerMinute,
      userConcurrentRequests: org.userConcurrentRequests,
    },
    degradation: org.degradation,
    failOpenUserCap: org.failOpenUserCap,
  };
}

/** The settings that apply to requests of `apiKeyId` in `orgId`. */
export async function loadProxySettings(db: DbOrTx, orgId: string, apiKeyId: string): Promise<ProxySettings> {
  const [org, key] = await Promise.all([
    db.proxySettings.findUnique({ where: { orgId } }),
    db.proxyKeyLimits.findUnique({ where: { apiKeyId } }),
  ]);
  const base = orgSettings(org);
  if (!key) return base;
  return {
    ...base,
    limits: {
      ...base.limits,
      keyRequestsPerMinute: key.requestsPerMinute,
      keyTokensPerMinute: key.tokensPerMinute,
      keyConcurrentRequests: key.concurrentRequests,
    },
  };
}

export async function saveProxySettings(db: DbOrTx, orgId: string, input: ProxySettingsInput, actor: Actor): Promise<void> {
  const parsed = proxySettingsInputSchema.safeParse(input);
  if (!parsed.success) throw new AppError('validation_failed', parsed.error.issues[0]?.message ?? 'Invalid settings', { field: String(parsed.error.issues[0]?.path[0] ?? '') });
  const data = { ...parsed.data, updatedAt: new Date() };
  await withTransaction(db, async (tx) => {
    await tx.proxySettings.upsert({ where: { orgId }, create: { orgId, ...data }, update: data });
    await recordAudit(tx, { orgId, actor, action: 'proxy_settings.updated', data: { ...parsed.data, failOpenUserCap: parsed.data.failOpenUserCap.toString() } });
  });
}

/** Replaces the org's key limits for one key of the org; `null` removes the replacement. */
export async function saveKeyLimits(
  db: DbOrTx,
  orgId: string,
  apiKeyId: string,
  input: z.input<typeof keyLimitsInputSchema> | null,
  actor: Actor,
): Promise<void> {
  const key = await db.apiKey.findFirst({ where: { id: apiKeyId, orgId }, select: { id: true } });
  if (!key) throw new AppError('not_found', 'API key not found');
  await withTransaction(db, async (tx) => {
    if (input === null) await tx.proxyKeyLimits.deleteMany({ where: { apiKeyId } });
    else {
      const data = { ...keyLimitsInputSchema.parse(input), updatedAt: new Date() };
      await tx.proxyKeyLimits.upsert({ where: { apiKeyId }, create: { apiKeyId, ...data }, update: data });
    }
    await recordAudit(tx, { orgId, actor, action: 'proxy_key_limits.updated', targetType: 'api_key', targetId: apiKeyId, data: input ?? { removed: true } });
  });
}

export type KeyLimitsRow = {
  apiKeyId: string;
  name: string;
  prefix: string;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentRequests: number | null;
};

/** The keys of the org whose limits replace the org's key limits, by key name. */
export async function listKeyLimits(db: DbOrTx, orgId: string): Promise<KeyLimitsRow[]> {
  const rows = await db.proxyKeyLimits.findMany({
    where: { apiKey: { orgId } },
    select: {
      apiKeyId: true,
      requestsPerMinute: true,
      tokensPerMinute: true,
      concurrentRequests: true,
      apiKey: { select: { name: true, prefix: true } },
    },
    orderBy: { apiKey: { name: 'asc' } },
  });
  return rows.map(({ apiKey, ...r }) => ({ ...r, name: apiKey.name, prefix: apiKey.prefix }));
}

const MEMORY_MS = 5_000;
// One per process: forgetting after a change (a dashboard action) reaches the proxy's copy of this module too.
const remembered = new RefreshingMemory<string, ProxySettings>('proxy-settings', MEMORY_MS, SETTINGS_STALE_MS);

/**
 * The settings, read at most every few seconds per key (lib/ops/refreshing-memory.ts). When the read fails
 * (the database is unreachable) the last settings read are returned with `stale: true`, or the error is
 * thrown when there are none.
 */
export async function rememberedProxySettings(
  db: DbOrTx,
  orgId: string,
  apiKeyId: string,
  maxAgeMs?: number,
): Promise<{ settings: ProxySettings; stale: boolean }> {
  const key = `${orgId}:${apiKeyId}`;
  try {
    return { settings: await remembered.get(key, () => loadProxySettings(db, orgId, apiKeyId), maxAgeMs), stale: false };
  } catch (err) {
    const last = remembered.last(key);
    if (last) return { settings: last, stale: true };
    throw err;
  }
}

export function forgetProxySettings(): void {
  remembered.forget();
}
