/**
 * Authentication of the public API: `Authorization: Bearer <key>`. Missing, malformed, unknown and revoked keys
 * all get the same 401 (with `WWW-Authenticate: Bearer`), so callers cannot probe which keys exist; a valid key
 * without a required scope gets 403.
 */
import type { ApiKeyScope } from '../generated/prisma/client.ts';
import { db as sharedDb } from '../db/client.ts';
import { scopeAllows, type VerifiedApiKey, verifyApiKey } from '../auth/api-keys.ts';
import type { DbOrTx } from '../users/create-user.ts';
import { AppError } from './errors.ts';
import { errorResponse, route, type RouteHandler, type RouteParams } from './route.ts';

export type ApiKeyContext<P extends RouteParams = RouteParams> = VerifiedApiKey & {
  requestId: string;
  params: P;
};

const bearerPattern = /^Bearer\s+(\S+)\s*$/i;

export function bearerToken(req: Request): string | null {
  const header = req.headers.get('authorization');
  return header ? (bearerPattern.exec(header)?.[1] ?? null) : null;
}

function unauthenticated(): Response {
  const res = errorResponse(new AppError('unauthenticated', 'A valid API key is required'));
  res.headers.set('www-authenticate', 'Bearer');
  return res;
}

/** `scopes`: the route accepts a key having any one of them (an admin key is accepted everywhere). */
export function withApiKey<P extends RouteParams = Record<string, string>>(
  scopes: ApiKeyScope[],
  handler: (req: Request, ctx: ApiKeyContext<P>) => Promise<Response>,
  options: { db?: DbOrTx } = {},
): RouteHandler<P> {
  return route<P>(async (req, { requestId, params, log }) => {
    const token = bearerToken(req);
    const verified = token ? await verifyApiKey(options.db ?? sharedDb, token) : null;
    if (!verified) return unauthenticated();
    log.setBindings({ orgId: verified.org.id, apiKeyId: verified.apiKey.id });
    if (!scopeAllows(verified.apiKey.scopes, scopes)) {
      throw new AppError('forbidden', `This API key lacks the required scope (${scopes.join(' or ')})`);
    }
    return handler(req, { ...verified, requestId, params });
  });
}
