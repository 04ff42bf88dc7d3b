import { describe, expect, it } from 'vitest';
import { hashPassword, passwordSchema, verifyPassword } from './password.ts';

describe('password hashing', () => {
  it('hashes with argon2id and a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a.startsWith('$argon2id$')).toBe(true);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse battery');
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword(stored, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse batterz')).toBe(false);
  });

  it('treats a malformed stored hash as a failed verification', async () => {
    expect(await verifyPassword('not-a-hash', 'whatever password')).toBe(false);
    expect(await verifyPassword('', 'whatever password')).toBe(false);
  });
});

describe('passwordSchema', () => {
  it('accepts 10 to 200 characters', () => {
    expect(passwordSchema.safeParse('a'.repeat(10)).success).toBe(true);
    expect(passwordSchema.safeParse('a'.repeat(200)).success).toBe(true);
  });

  it('rejects passwords that are too short or too long', () => {
    expect(passwordSchema.safeParse('a'.repeat(9)).success).toBe(false);
    expect(passwordSchema.safeParse('a'.repeat(201)).success).toBe(false);
  });
});
