/**
 * Calling /api/v1 route handlers directly in db tests: an org with one API key per scope, and requests built
 * the way Next.js would hand them to a handler.
 */
import { createApiKey } from '../auth/api-keys.ts';
import type { Db } from '../db/client.ts';
import type { RouteHandler } from '../http/route.ts';
import { createUser } from '../users/create-user.ts';

export type Scope = 'admin' | 'meter' | 'read';
export type TestOrg = { id: string; slug: string; keys: Record<Scope, string> };

const system = { type: 'system' } as const;

export async function createTestOrg(db: Db, slug: string): Promise<TestOrg> {
  const org = await db.org.create({ data: { slug, name: slug } });
  const keys = {} as Record<Scope, string>;
  for (const scope of ['admin', 'meter', 'read'] as const) {
    keys[scope] = (await createApiKey(db, { orgId: org.id, name: scope, scopes: [scope] }, system)).key;
  }
  return { id: org.id, slug, keys };
}

/** A member known by external id; returns their user id. */
export async function createTestMember(db: Db, orgId: string, externalId: string): Promise<string> {
  const { user } = await createUser(db, { externalId, org: { id: orgId, role: 'member' } }, system);
  return user.id;
}

export type CallOptions = {
  method?: string;
  key?: string | null;
  body?: unknown;
  idempotencyKey?: string;
  params?: Record<string, string>;
};

export function apiRequest(path: string, options: CallOptions = {}): Request {
  const headers = new Headers({ 'content-type': 'application/json' });
  if (options.key) headers.set('authorization', `Bearer ${options.key}`);
  if (options.idempotencyKey !== undefined) headers.set('idempotency-key', options.idempotencyKey);
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Request(`http://localhost${path}`, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
}

export function callRoute(handler: RouteHandler<never>, path: string, options: CallOptions = {}): Promise<Response> {
  return (handler as RouteHandler)(apiRequest(path, options), { params: Promise.resolve(options.params ?? {}) });
}

/** Status and parsed body of a call. */
export async function callJson<T = any>(
  handler: RouteHandler<never>,
  path: string,
  options: CallOptions = {},
): Promise<{ status: number; body: T; text: string }> {
  const res = await callRoute(handler, path, options);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}
