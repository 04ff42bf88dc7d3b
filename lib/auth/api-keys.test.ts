import { describe, expect, it } from 'vitest';
import { apiKeyPrefix, apiKeyScopesSchema, generateApiKey, hashApiKey, scopeAllows } from './api-keys.ts';

describe('API key format', () => {
  it('is cr_ followed by 32 random bytes in base64url', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^cr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
    expect(generateApiKey()).not.toBe(key);
  });

  it('shows a 12-character prefix for recognising keys in lists', () => {
    const key = generateApiKey();
    expect(apiKeyPrefix(key)).toBe(key.slice(0, 12));
    expect(apiKeyPrefix(key).startsWith('cr_')).toBe(true);
  });

  it('is stored as a SHA-256 hex digest that does not contain the key', () => {
    const key = generateApiKey();
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).toBe(hash);
    expect(hash).not.toContain(key.slice(3));
  });
});

describe('scopeAllows', () => {
  it('lets an admin key do everything', () => {
    expect(scopeAllows(['admin'], ['meter'])).toBe(true);
    expect(scopeAllows(['admin'], ['read'])).toBe(true);
  });

  it('needs one of the required scopes otherwise', () => {
    expect(scopeAllows(['meter'], ['meter'])).toBe(true);
    expect(scopeAllows(['read'], ['admin', 'read'])).toBe(true);
    expect(scopeAllows(['meter'], ['admin'])).toBe(false);
    expect(scopeAllows(['read'], ['meter'])).toBe(false);
    expect(scopeAllows([], ['read'])).toBe(false);
  });
});

describe('apiKeyScopesSchema', () => {
  it('needs at least one known scope and drops duplicates', () => {
    expect(apiKeyScopesSchema.parse(['meter', 'meter', 'read'])).toEqual(['meter', 'read']);
    expect(apiKeyScopesSchema.safeParse([]).success).toBe(false);
    expect(apiKeyScopesSchema.safeParse(['owner']).success).toBe(false);
  });
});
