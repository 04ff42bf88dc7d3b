import { describe, expect, it } from 'vitest';
import type { Db } from '../db/client.ts';
import { buildAuthOptions, signInPath } from './session.ts';

const db = {} as Db;
const secret = 'x'.repeat(32);

describe('buildAuthOptions', () => {
  it('offers email and password only, when no OAuth provider is configured', () => {
    const options = buildAuthOptions({ NEXTAUTH_SECRET: secret }, db);
    expect(options.providers.map((p) => p.id)).toEqual(['credentials']);
    expect(options.session?.strategy).toBe('jwt');
    expect(options.pages?.signIn).toBe('/sign-in');
    expect(options.secret).toBe(secret);
  });

  it('adds GitHub and Google when their credentials are set', () => {
    const options = buildAuthOptions(
      {
        NEXTAUTH_SECRET: secret,
        GITHUB_ID: 'gh-id',
        GITHUB_SECRET: 'gh-secret',
        GOOGLE_CLIENT_ID: 'g-id',
        GOOGLE_CLIENT_SECRET: 'g-secret',
      },
      db,
    );
    expect(options.providers.map((p) => p.id)).toEqual(['credentials', 'github', 'google']);
  });

  it('puts our user id in the session', async () => {
    const options = buildAuthOptions({ NEXTAUTH_SECRET: secret }, db);
    const session = await options.callbacks!.session!({
      session: { expires: '2100-01-01T00:00:00Z', user: { id: '', name: 'A', email: 'a@example.com' } },
      token: { sub: '0193a000-0000-7000-8000-000000000001', name: 'A', email: 'a@example.com' },
    } as never);
    expect(session.user).toEqual({ id: '0193a000-0000-7000-8000-000000000001', name: 'A', email: 'a@example.com' });
  });
});

describe('signInPath', () => {
  it('brings the user back to where they were going', () => {
    expect(signInPath('/acme/users')).toBe('/sign-in?callbackUrl=%2Facme%2Fusers');
    expect(signInPath()).toBe('/sign-in');
  });
});
