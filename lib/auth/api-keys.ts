/**
 * API keys of an org, for LLM backends and integrations. A key is `cr_` + 32 random bytes (base64url); it is
 * shown once and only its SHA-256 is stored (256 bits of randomness make a slow hash pointless and it would
 * slow every metered call). The first 12 characters are kept as a prefix to recognise keys in lists.
 * Revoked keys never authenticate; another org's key is "not found".
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ApiKeyScope } from '../generated/prisma/client.ts';
import { AppError } from '../http/errors.ts';
import { logger } from '../http/logger.ts';
import { RefreshingMemory } from '../ops/refreshing-memory.ts';
import type { DbOrTx } from '../users/create-user.ts';
import { withTransaction } from '../users/create-user.ts';
import { type Actor, recordAudit } from './actor.ts';

export const apiKeyScopeSchema = z.enum(['admin', 'meter', 'read']);
export const apiKeyNameSchema = z.string().trim().min(1, 'Name is required').max(100, 'Name is too long');
export const apiKeyScopesSchema = z
  .array(apiKeyScopeSchema)
  .min(1, 'Choose at least one scope')
  .transform((scopes) => [...new Set(scopes)]);

const keyPattern = /^cr_[A-Za-z0-9_-]{43}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const apiKeyPrefixLength = 12;

export function generateApiKey(): string {
  return `cr_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyPrefix(key: string): string {
  return key.slice(0, apiKeyPrefixLength);
}

/** Whether a key's scopes cover a route that accepts any of `required`; `admin` covers everything. */
export function scopeAllows(scopes: readonly ApiKeyScope[], required: readonly ApiKeyScope[]): boolean {
  if (scopes.includes('admin')) return true;
  if (required.length === 0) return true;
  return required.some((scope) => scopes.includes(scope));
}

export type ApiKeyView = {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

const apiKeyViewSelect = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

function parseField<T>(schema: z.ZodType<T, unknown>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError('validation_failed', result.error.issues[0]?.message ?? `Invalid ${field}`, { field });
  }
  return result.data;
}

/** Creates a key; the clear `key` is returned here and never again. */
export async function createApiKey(
  db: DbOrTx,
  input: { orgId: string; name: string; scopes: ApiKeyScope[]; createdById?: string | null },
  actor: Actor,
): Promise<{ apiKey: ApiKeyView; key: string }> {
  const name = parseField(apiKeyNameSchema, input.name, 'name');
  const scopes = parseField(apiKeyScopesSchema, input.scopes, 'scopes');
  const key = generateApiKey();
  const apiKey = await withTransaction(db, async (tx) => {
    const created = await tx.apiKey.create({
      data: {
        orgId: input.orgId,
        name,
        scopes,
        prefix: apiKeyPrefix(key),
        keyHash: hashApiKey(key),
        createdById: input.createdById ?? null,
      },
      select: apiKeyViewSelect,
    });
    await recordAudit(tx, {
      orgId: input.orgId,
      actor,
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: created.id,
      data: { name, prefix: created.prefix, scopes },
    });
    return created;
  });
  return { apiKey, key };
}

/** The org's keys, newest first, revoked ones included. */
export async function listApiKeys(db: DbOrTx, orgId: string): Promise<ApiKeyView[]> {
  return db.apiKey.findMany({
    where: { orgId },
    select: apiKeyViewSelect,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
}

/** Revokes a key of the org; revoking twice keeps the first revocation time. */
export async function revokeApiKey(db: DbOrTx, orgId: string, id: string, actor: Actor): Promise<ApiKeyView> {
  if (!uuidPattern.test(id)) throw new AppError('not_found', 'API key not found');
  return withTransaction(db, async (tx) => {
    const existing = await tx.apiKey.findFirst({ where: { id, orgId }, select: apiKeyViewSelect });
    if (!existing) throw new AppError('not_found', 'API key not found');
    if (existing.revokedAt) return existing;
    const [row] = await tx.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
    const revoked = await tx.apiKey.update({
      where: { id },
      data: { revokedAt: row!.now },
      select: apiKeyViewSelect,
    });
    forgetVerifiedApiKeys();
    await recordAudit(tx, {
      orgId,
      actor,
      action: 'api_key.revoked',
      targetType: 'api_key',
      targetId: id,
      data: { name: existing.name, prefix: existing.prefix },
    });
    return revoked;
  });
}

export type VerifiedApiKey = {
  apiKey: { id: string; orgId: string; name: string; prefix: string; scopes: ApiKeyScope[] };
  org: { id: string; slug: string; name: string };
};

/**
 * The key's identity, or null when it is malformed, unknown or revoked. Records use at most once a minute per
 * key without making the caller wait for it.
 */
export async function verifyApiKey(db: DbOrTx, key: string): Promise<VerifiedApiKey | null> {
  if (!keyPattern.test(key)) return null;
  const keyHash = hashApiKey(key);
  return verifiedKeys.get(keyHash, () => lookUpApiKey(db, keyHash));
}

/**
 * Verified keys are remembered for a few seconds, so the metering hot path does not read the key on every
 * call (lib/ops/refreshing-memory.ts): a revocation takes effect at once in the process that made it and
 * within VERIFIED_TTL_MS (and one read) elsewhere. The memory holds only key hashes.
 */
const VERIFIED_TTL_MS = 5_000;
const verifiedKeys = new RefreshingMemory<string, VerifiedApiKey | null>('verified-api-keys', VERIFIED_TTL_MS);

/** Forgets every remembered key (after a revocation). */
export function forgetVerifiedApiKeys(): void {
  verifiedKeys.forget();
}

/**
 * One plain query (a third of the CPU of the equivalent Prisma query with its relation): every request that
 * finds its key's memory stale waits for it.
 */
async function lookUpApiKey(db: DbOrTx, keyHash: string): Promise<VerifiedApiKey | null> {
  const [found] = await db.$queryRaw<Array<{ id: string; org_id: string; name: string; prefix: string; scopes: string[]; slug: string; org_name: string }>>`
    SELECT k.id::text, k.org_id::text, k.name, k.prefix, k.scopes::text[] AS scopes, o.slug, o.name AS org_name
      FROM api_keys k JOIN orgs o ON o.id = k.org_id
     WHERE k.key_hash = ${keyHash} AND k.revoked_at IS NULL`;
  if (!found) return null;
  touchApiKey(db, found.id);
  return {
    apiKey: { id: found.id, orgId: found.org_id, name: found.name, prefix: found.prefix, scopes: found.scopes as ApiKeyScope[] },
    org: { id: found.org_id, slug: found.slug, name: found.org_name },
  };
}

/**
 * The condition makes concurrent requests with the same key write at most one row version a minute instead
 * of one per request; the database clock decides the minute.
 */
function touchApiKey(db: DbOrTx, id: string): void {
  db.$executeRaw`
    UPDATE api_keys SET last_used_at = now()
    WHERE id = ${id}::uuid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`.then(
    undefined,
    (err: unknown) => logger.error({ err, apiKeyId: id }, 'failed to record API key use'),
  );
}
