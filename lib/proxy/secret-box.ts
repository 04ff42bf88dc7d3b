/**
 * Encryption at rest of secrets the proxy must use again (upstream API keys): AES-256-GCM with a random 96-bit
 * nonce per value and the owning org's id as additional data, so a sealed value copied to another org's row
 * does not open. A sealed value names the master key that sealed it (`v1.<key id>.<nonce>.<tag>.<data>`, the
 * id being a hash prefix of the key), so after a rotation values sealed with a previous key still open and can
 * be sealed again with the current one.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from '../http/errors.ts';
import { dataDirSecret } from '../ops/data-dir.ts';

export type MasterKey = { id: string; key: Buffer };
export type Keyring = { current: MasterKey; previous: MasterKey[] };

export function masterKey(key: Buffer): MasterKey {
  if (key.length !== 32) throw new Error('A master key has 32 bytes');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}

/** 32 bytes given as 64 hex digits or as base64 / base64url. */
export function parseMasterKey(text: string): MasterKey {
  const value = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  return masterKey(bytes);
}

/**
 * The keyring from configuration: CREDITS_MASTER_KEY when set (with previous keys still accepted for opening),
 * else a key generated once and kept in the data folder beside the other generated secrets.
 */
export function keyringFrom(config: { masterKey?: string; previousKeys?: string[]; dataDir: string }): Keyring {
  const current = config.masterKey
    ? parseMasterKey(config.masterKey)
    : parseMasterKey(dataDirSecret(config.dataDir, 'master-key'));
  return { current, previous: (config.previousKeys ?? []).map(parseMasterKey) };
}

export type Sealed = { sealed: string; keyId: string };

export function seal(keyring: Keyring, plaintext: string, context: string): Sealed {
  const { id, key } = keyring.current;
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  const sealed = ['v1', id, nonce.toString('base64url'), tag.toString('base64url'), data.toString('base64url')].join('.');
  return { sealed, keyId: id };
}

/** The secret, or AppError `internal` when the value was altered, belongs elsewhere or its key is unknown. */
export function open(keyring: Keyring, sealed: string, context: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') throw new AppError('internal', 'Sealed value is malformed');
  const [, keyId, nonce, tag, data] = parts;
  const key = [keyring.current, ...keyring.previous].find((k) => k.id === keyId);
  if (!key) throw new AppError('internal', 'Sealed value was sealed with an unknown master key');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new AppError('internal', 'Sealed value failed authentication');
  }
}

/** Whether a value should be sealed again with the current key (after a rotation). */
export function needsResealing(keyring: Keyring, keyId: string): boolean {
  return keyId !== keyring.current.id;
}
