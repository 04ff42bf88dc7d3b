import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from './env.ts';

describe('parseEnv', () => {
  it('gives working defaults for an empty environment', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ DATA_DIR: './.data', PORT: 3000, HOST: '127.0.0.1', INVITATION_TTL_HOURS: 168 });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(parseEnv({ DATABASE_URL: '', GITHUB_ID: '', GITHUB_SECRET: '' }).DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    try {
      parseEnv({ PORT: 'eighty', DATABASE_URL: 'not a url', NEXTAUTH_SECRET: 'short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const message = (err as Error).message;
      expect(message).toContain('PORT');
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('NEXTAUTH_SECRET');
    }
  });

  it('requires OAuth credentials in pairs', () => {
    expect(() => parseEnv({ GITHUB_ID: 'abc' })).toThrow(/GITHUB_ID and GITHUB_SECRET/);
    expect(() => parseEnv({ GOOGLE_CLIENT_SECRET: 'abc' })).toThrow(/GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET/);
    expect(parseEnv({ GITHUB_ID: 'a', GITHUB_SECRET: 'b' }).GITHUB_ID).toBe('a');
  });

  it('accepts a 32-byte master key in hex or base64 and refuses others', () => {
    expect(parseEnv({ CREDITS_MASTER_KEY: 'ab'.repeat(32) }).CREDITS_MASTER_KEY).toBe('ab'.repeat(32));
    expect(parseEnv({ CREDITS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }).CREDITS_MASTER_KEY).toBeDefined();
    expect(() => parseEnv({ CREDITS_MASTER_KEY: 'too-short' })).toThrow(/CREDITS_MASTER_KEY/);
    expect(() => parseEnv({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
