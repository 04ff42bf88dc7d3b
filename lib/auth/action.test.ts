import { redirect } from 'next/navigation';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AppError } from '../http/errors.ts';
import type { OrgContext } from './authorize.ts';

const authorizeOrg = vi.fn<(slug: string, permission: string) => Promise<OrgContext>>();
const getSessionUser = vi.fn();
vi.mock('./authorize.ts', () => ({ authorizeOrg: (s: string, p: string) => authorizeOrg(s, p) }));
vi.mock('./session.ts', () => ({ getSessionUser: () => getSessionUser() }));

const { formDataToObject, orgAction, publicAction, userAction } = await import('./action.ts');

const ctx: OrgContext = {
  org: { id: 'org-1', slug: 'acme', name: 'Acme' },
  user: { id: 'user-1', email: 'a@example.com', name: 'A' },
  membership: { id: 'm-1', role: 'admin' },
};

function form(entries: [string, string][]): FormData {
  const fd = new FormData();
  for (const [k, v] of entries) fd.append(k, v);
  return fd;
}

beforeEach(() => {
  authorizeOrg.mockReset();
  getSessionUser.mockReset();
});

describe('formDataToObject', () => {
  it('treats empty fields as absent, repeated names as lists, and drops React internals', () => {
    const fd = form([
      ['name', 'Key'],
      ['note', ''],
      ['scopes', 'meter'],
      ['scopes', 'read'],
      ['$ACTION_ID_abc', ''],
      ['$ACTION_KEY', 'k'],
    ]);
    expect(formDataToObject(fd)).toEqual({ name: 'Key', scopes: ['meter', 'read'] });
  });
});

describe('orgAction', () => {
  const schema = z.object({ name: z.string().min(3, 'Too short'), note: z.string().optional() });

  it('authorizes the org from the form and passes the parsed input and context', async () => {
    authorizeOrg.mockResolvedValue(ctx);
    const fn = vi.fn(async (input: z.output<typeof schema>, c: OrgContext) => ({ echoed: input, org: c.org.slug }));
    const action = orgAction('users:manage', schema, fn);
    const result = await action(null, form([['org', 'acme'], ['name', 'Alice'], ['note', '']]));
    expect(authorizeOrg).toHaveBeenCalledWith('acme', 'users:manage');
    expect(result).toEqual({ ok: true, data: { echoed: { name: 'Alice' }, org: 'acme' } });
  });

  it('returns field errors for invalid input, with a plain message for missing fields', async () => {
    authorizeOrg.mockResolvedValue(ctx);
    const fn = vi.fn();
    const action = orgAction('users:manage', z.object({ name: z.string().min(3, 'Too short'), email: z.string() }), fn);
    const result = await action(null, form([['org', 'acme'], ['name', 'Al'], ['email', '']]));
    expect(result).toEqual({
      ok: false,
      error: { code: 'validation_failed', message: expect.any(String) },
      fieldErrors: { name: ['Too short'], email: ['This field is required'] },
    });
    expect(fn).not.toHaveBeenCalled();
  });

  it('refuses before validating when the user may not act on the org', async () => {
    authorizeOrg.mockRejectedValue(new AppError('forbidden', "You don't have permission to do this"));
    const fn = vi.fn();
    const result = await orgAction('users:manage', schema, fn)(null, form([['org', 'acme'], ['name', '']]));
    expect(result).toEqual({ ok: false, error: { code: 'forbidden', message: "You don't have permission to do this" } });
    expect(fn).not.toHaveBeenCalled();
  });

  it('reports a missing org as not found', async () => {
    const result = await orgAction('users:manage', schema, vi.fn())(null, form([['name', 'Alice']]));
    expect(result).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(authorizeOrg).not.toHaveBeenCalled();
  });

  it('maps domain errors to their code and field, and hides unexpected ones', async () => {
    authorizeOrg.mockResolvedValue(ctx);
    const conflict = orgAction('users:manage', schema, async () => {
      throw new AppError('conflict', 'A user with this email already exists', { field: 'email' });
    });
    expect(await conflict(null, form([['org', 'acme'], ['name', 'Alice']]))).toEqual({
      ok: false,
      error: { code: 'conflict', message: 'A user with this email already exists' },
      fieldErrors: { email: ['A user with this email already exists'] },
    });
    const crash = orgAction('users:manage', schema, async () => {
      throw new Error('db exploded with secrets');
    });
    const result = await crash(null, form([['org', 'acme'], ['name', 'Alice']]));
    expect(result).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(JSON.stringify(result)).not.toContain('secrets');
  });

  it('passes a success message through and lets redirects escape', async () => {
    authorizeOrg.mockResolvedValue(ctx);
    const withMessage = orgAction('users:manage', schema, async () => ({ ok: true as const, message: 'Saved' }));
    expect(await withMessage(null, form([['org', 'acme'], ['name', 'Alice']]))).toEqual({ ok: true, message: 'Saved' });
    const redirecting = orgAction('users:manage', schema, async () => redirect('/acme'));
    await expect(redirecting(null, form([['org', 'acme'], ['name', 'Alice']]))).rejects.toMatchObject({
      digest: expect.stringContaining('NEXT_REDIRECT'),
    });
  });
});

describe('userAction and publicAction', () => {
  const schema = z.object({ name: z.string() });

  it('userAction requires a signed-in user', async () => {
    getSessionUser.mockResolvedValue(null);
    const fn = vi.fn();
    expect(await userAction(schema, fn)(null, form([['name', 'x']]))).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    getSessionUser.mockResolvedValue(ctx.user);
    const ok = await userAction(schema, async (input, user) => ({ who: user.id, name: input.name }))(
      null,
      form([['name', 'x']]),
    );
    expect(ok).toEqual({ ok: true, data: { who: 'user-1', name: 'x' } });
  });

  it('publicAction needs no session', async () => {
    const result = await publicAction(schema, async () => undefined)(null, form([['name', 'x']]));
    expect(result).toEqual({ ok: true });
    expect(getSessionUser).not.toHaveBeenCalled();
  });
});
