/**
 * Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane). Hashes are PHC strings, so the
 * parameters travel with each hash and can be raised later without invalidating old ones.
 */
import { hash, verify } from '@node-rs/argon2';
import { z } from 'zod';

export const passwordSchema = z
  .string()
  .min(10, 'Password must be at least 10 characters')
  .max(200, 'Password must be at most 200 characters');

const hashOptions = { memoryCost: 19456, timeCost: 2, parallelism: 1, outputLen: 32 };

export async function hashPassword(plain: string): Promise<string> {
  return hash(plain, hashOptions);
}

/** False for a wrong password and for anything that is not a valid argon2 hash (never throws on bad input). */
export async function verifyPassword(passwordHash: string, plain: string): Promise<boolean> {
  try {
    return await verify(passwordHash, plain);
  } catch {
    return false;
  }
}
