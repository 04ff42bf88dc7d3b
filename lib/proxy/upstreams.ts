/**
 * The upstreams the proxy forwards to: the default one from configuration and each org's own, managed in the
 * dashboard. An org's upstream key is sealed at rest (secret-box.ts) and never leaves this module in a view,
 * only its last four characters. Another org's upstream is "not found".
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Actor, recordAudit } from '../auth/actor.ts';
import { AppError } from '../http/errors.ts';
import { type DbOrTx, uniqueViolationFields, withTransaction } from '../users/create-user.ts';
import { type Keyring, open, seal } from './secret-box.ts';

/** What the forwarder needs of an upstream. `id` is "default" for the configured one. */
export type Upstream = { id: string; name: string; baseUrl: string; apiKey: string; modelPatterns: string[] };

export const upstreamNameSchema = z.string().trim().min(1, 'Name is required').max(100, 'Name is too long');
export const upstreamBaseUrlSchema = z
  .string()
  .trim()
  .url('Enter a URL such as https://api.openai.com/v1')
  .refine((v) => /^https?:\/\//i.test(v), 'The URL must start with http:// or https://')
  .transform((v) => v.replace(/\/+$/, ''));
export const upstreamApiKeySchema = z.string().trim().min(1, 'API key is required').max(1000, 'API key is too long');
/** Patterns separated by commas, spaces or lines; `*` matches any characters. */
export const modelPatternsSchema = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v),
  z
    .array(z.string().regex(/^[A-Za-z0-9._:/*@-]{1,200}$/, 'Patterns use letters, digits, . _ : / @ - and *'))
    .min(1, 'Give at least one model pattern, or * for all models')
    .max(50, 'At most 50 patterns'),
);

export type UpstreamView = {
  id: string;
  name: string;
  baseUrl: string;
  apiKeyLast4: string;
  modelPatterns: string[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
};

const viewSelect = {
  id: true,
  name: true,
  baseUrl: true,
  apiKeyLast4: true,
  modelPatterns: true,
  enabled: true,
  createdAt: true,
  updatedAt: true,
} as const;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parse<T>(schema: z.ZodType<T, unknown>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError('validation_failed', result.error.issues[0]?.message ?? `Invalid ${field}`, { field });
  return result.data;
}

function duplicateName(err: unknown): never {
  if (uniqueViolationFields(err)) throw new AppError('conflict', 'An upstream with this name already exists', { field: 'name' });
  throw err;
}

export function last4(key: string): string {
  return key.slice(-4);
}

export type UpstreamInput = { name: string; baseUrl: string; apiKey: string; modelPatterns: string[] | string };

export async function createUpstream(db: DbOrTx, keyring: Keyring, orgId: string, input: UpstreamInput, actor: Actor): Promise<UpstreamView> {
  const name = parse(upstreamNameSchema, input.name, 'name');
  const baseUrl = parse(upstreamBaseUrlSchema, input.baseUrl, 'baseUrl');
  const apiKey = parse(upstreamApiKeySchema, input.apiKey, 'apiKey');
  const modelPatterns = parse(modelPatternsSchema, input.modelPatterns, 'modelPatterns');
  const { sealed, keyId } = seal(keyring, apiKey, orgId);
  return withTransaction(db, async (tx) => {
    const created = await tx.proxyUpstream
      .create({
        data: { id: randomUUID(), orgId, name, baseUrl, apiKeySealed: sealed, apiKeyKeyId: keyId, apiKeyLast4: last4(apiKey), modelPatterns },
        select: viewSelect,
      })
      .catch(duplicateName);
    await recordAudit(tx, { orgId, actor, action: 'upstream.created', targetType: 'upstream', targetId: created.id, data: { name, baseUrl, modelPatterns } });
    return created;
  });
}

/** Changes name, URL and patterns; the key only when a new one is given. */
export async function updateUpstream(
  db: DbOrTx,
  keyring: Keyring,
  orgId: string,
  id: string,
  input: Omit<UpstreamInput, 'apiKey'> & { apiKey?: string },
  actor: Actor,
): Promise<UpstreamView> {
  await findOwnUpstream(db, orgId, id);
  const name = parse(upstreamNameSchema, input.name, 'name');
  const baseUrl = parse(upstreamBaseUrlSchema, input.baseUrl, 'baseUrl');
  const modelPatterns = parse(modelPatternsSchema, input.modelPatterns, 'modelPatterns');
  const key = input.apiKey ? parse(upstreamApiKeySchema, input.apiKey, 'apiKey') : undefined;
  const sealedKey = key ? seal(keyring, key, orgId) : undefined;
  return withTransaction(db, async (tx) => {
    const updated = await tx.proxyUpstream
      .update({
        where: { id },
        data: {
          name,
          baseUrl,
          modelPatterns,
          ...(key && sealedKey && { apiKeySealed: sealedKey.sealed, apiKeyKeyId: sealedKey.keyId, apiKeyLast4: last4(key) }),
        },
        select: viewSelect,
      })
      .catch(duplicateName);
    await recordAudit(tx, { orgId, actor, action: 'upstream.updated', targetType: 'upstream', targetId: id, data: { name, baseUrl, modelPatterns, keyChanged: Boolean(key) } });
    return updated;
  });
}

export async function setUpstreamEnabled(db: DbOrTx, orgId: string, id: string, enabled: boolean, actor: Actor): Promise<UpstreamView> {
  await findOwnUpstream(db, orgId, id);
  return withTransaction(db, async (tx) => {
    const updated = await tx.proxyUpstream.update({ where: { id }, data: { enabled }, select: viewSelect });
    await recordAudit(tx, { orgId, actor, action: enabled ? 'upstream.enabled' : 'upstream.disabled', targetType: 'upstream', targetId: id });
    return updated;
  });
}

export async function deleteUpstream(db: DbOrTx, orgId: string, id: string, actor: Actor): Promise<void> {
  const existing = await findOwnUpstream(db, orgId, id);
  await withTransaction(db, async (tx) => {
    await tx.proxyUpstream.delete({ where: { id } });
    await recordAudit(tx, { orgId, actor, action: 'upstream.deleted', targetType: 'upstream', targetId: id, data: { name: existing.name } });
  });
}

export async function listUpstreams(db: DbOrTx, orgId: string): Promise<UpstreamView[]> {
  return db.proxyUpstream.findMany({ where: { orgId }, select: viewSelect, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

async function findOwnUpstream(db: DbOrTx, orgId: string, id: string): Promise<UpstreamView> {
  const found = uuidPattern.test(id) ? await db.proxyUpstream.findFirst({ where: { id, orgId }, select: viewSelect }) : null;
  if (!found) throw new AppError('not_found', 'Upstream not found');
  return found;
}

/** The org's enabled upstreams with their keys opened, for routing. */
export async function loadEnabledUpstreams(db: DbOrTx, keyring: Keyring, orgId: string): Promise<Upstream[]> {
  const rows = await db.proxyUpstream.findMany({
    where: { orgId, enabled: true },
    select: { id: true, name: true, baseUrl: true, apiKeySealed: true, modelPatterns: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map((r) => ({ id: r.id, name: r.name, baseUrl: r.baseUrl, apiKey: open(keyring, r.apiKeySealed, orgId), modelPatterns: r.modelPatterns }));
}
