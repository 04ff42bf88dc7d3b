import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from './errors.ts';
import { json } from './route.ts';

const authorizeOrg = vi.fn();
vi.mock('../auth/authorize.ts', () => ({ authorizeOrg: (...args: unknown[]) => authorizeOrg(...args) }));
const { withSession } = await import('./with-session.ts');

const ctx = {
  org: { id: 'org-1', slug: 'acme', name: 'Acme' },
  user: { id: 'user-1', email: 'a@example.com', name: null },
  membership: { id: 'm-1', role: 'owner' },
};

const handler = withSession('usage:view', async (_req, c) => json({ org: c.org.slug, role: c.membership.role }));
const call = (org: string) => handler(new Request(`http://x/api/orgs/${org}/usage`), { params: Promise.resolve({ org }) });

beforeEach(() => authorizeOrg.mockReset());

describe('withSession', () => {
  it('authorizes the org named in the route for the permission', async () => {
    authorizeOrg.mockResolvedValue(ctx);
    const res = await call('acme');
    expect(authorizeOrg).toHaveBeenCalledWith('acme', 'usage:view');
    expect(await res.json()).toEqual({ org: 'acme', role: 'owner' });
  });

  it('answers 401, 404 and 403 as JSON errors', async () => {
    for (const [error, status] of [
      [new AppError('unauthenticated', 'Sign in to continue'), 401],
      [new AppError('not_found', 'Not found'), 404],
      [new AppError('forbidden', 'No'), 403],
    ] as const) {
      authorizeOrg.mockRejectedValueOnce(error);
      const res = await call('acme');
      expect(res.status).toBe(status);
      expect((await res.json()).error.code).toBe(error.code);
    }
  });
});
