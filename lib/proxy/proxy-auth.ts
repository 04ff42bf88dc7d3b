/**
 * Authentication of proxy requests: the API key as everywhere (`Authorization: Bearer`, scope meter), plus a
 * memory of keys verified in the last hour, used only while the database cannot be reached, so an org that
 * fails open keeps serving its known keys during an outage. A key revoked during an outage stays usable
 * until the database answers again: the price of failing open, which the org chose.
 */
import { scopeAllows, verifyApiKey, hashApiKey, type VerifiedApiKey } from '../auth/api-keys.ts';
import { AppError } from '../http/errors.ts';
import { bearerToken } from '../http/with-api-key.ts';
import type { DbOrTx } from '../users/create-user.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';

const OUTAGE_MEMORY_MS = 60 * 60_000;
const known = new Map<string, { at: number; value: VerifiedApiKey }>();

export type ProxyPrincipal = VerifiedApiKey & { fromOutageMemory: boolean };

export async function authenticateProxyRequest(db: DbOrTx, req: Request): Promise<ProxyPrincipal> {
  const token = bearerToken(req);
  if (!token) throw new AppError('unauthenticated', 'A valid API key is required');
  let verified: VerifiedApiKey | null;
  let fromOutageMemory = false;
  try {
    verified = await verifyApiKey(db, token);
    if (verified) {
      if (known.size >= 10_000) known.clear();
      known.set(hashApiKey(token), { at: Date.now(), value: verified });
    }
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw err;
    const hit = known.get(hashApiKey(token));
    if (!hit || Date.now() - hit.at > OUTAGE_MEMORY_MS) throw new AppError('unavailable', 'The credit service is unavailable; try again shortly', { retryAfterSeconds: 5 });
    verified = hit.value;
    fromOutageMemory = true;
  }
  if (!verified) throw new AppError('unauthenticated', 'A valid API key is required');
  if (!scopeAllows(verified.apiKey.scopes, ['meter'])) throw new AppError('forbidden', 'This API key lacks the required scope (meter)');
  return { ...verified, fromOutageMemory };
}
