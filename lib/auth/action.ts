/**
 * The authenticated action client: every server action is built with `orgAction`, `userAction` or
 * `publicAction`, which authorize first, then parse the form with the action's zod schema, then call the
 * domain. Actions return an `ActionResult` (for `useActionState`) instead of throwing, so forms can show field
 * errors; unexpected errors are logged and reported as a generic `internal` error. Next.js control flow
 * (redirect, notFound) passes through untouched.
 */
import { unstable_rethrow } from 'next/navigation';
import type { z } from 'zod';
import { AppError, isAppError } from '../http/errors.ts';
import { logger } from '../http/logger.ts';
import { authorizeOrg, type OrgContext } from './authorize.ts';
import type { Permission } from './permissions.ts';
import { getSessionUser, type SessionUser } from './session.ts';

export type ActionResult<T = unknown> =
  | { ok: true; data?: T; message?: string }
  | { ok: false; error: { code: string; message: string }; fieldErrors?: Record<string, string[]> };

export type ActionSuccess<T = unknown> = { ok: true; data?: T; message?: string };

/** What a handler may return: plain data, a success with a message for the user, or nothing. */
export type ActionOutput<T> = T | ActionSuccess<T> | void;

export type FormAction<T = unknown> = (prevState: ActionResult<T> | null, formData: FormData) => Promise<ActionResult<T>>;

const requiredMessage = 'This field is required';

/**
 * The form as a plain object for zod: empty strings and empty file inputs are absent (so optional fields are
 * undefined), a name that occurs more than once (checkboxes, multi-selects) becomes an array, and React's
 * internal `$ACTION_*` fields are dropped.
 */
export function formDataToObject(formData: FormData, omit: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Map<string, unknown[]>();
  for (const [key, value] of formData.entries()) {
    if (key.startsWith('$ACTION') || omit.includes(key)) continue;
    if (typeof value === 'string' && value === '') continue;
    if (typeof value !== 'string' && value.size === 0 && value.name === '') continue;
    const values = seen.get(key) ?? [];
    values.push(value);
    seen.set(key, values);
  }
  for (const [key, values] of seen) out[key] = values.length === 1 ? values[0] : values;
  return out;
}

/** Zod issues as `{ field: [messages] }`; a missing required field reads "This field is required". */
export function zodFieldErrors(error: z.ZodError, input: Record<string, unknown>): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '_form';
    const missing = issue.code === 'invalid_type' && issue.path.length === 1 && input[String(issue.path[0])] === undefined;
    (fieldErrors[key] ??= []).push(missing ? requiredMessage : issue.message);
  }
  return fieldErrors;
}

function toSuccess<T>(output: ActionOutput<T>): ActionResult<T> {
  if (output === undefined || output === null) return { ok: true };
  if (typeof output === 'object' && (output as { ok?: unknown }).ok === true) return output as ActionSuccess<T>;
  return { ok: true, data: output as T };
}

function toFailure(err: unknown): ActionResult<never> {
  if (isAppError(err)) {
    const field = typeof err.details?.field === 'string' ? err.details.field : undefined;
    return {
      ok: false,
      error: { code: err.code, message: err.message },
      ...(field ? { fieldErrors: { [field]: [err.message] } } : {}),
    };
  }
  logger.error({ err }, 'server action failed');
  return { ok: false, error: { code: 'internal', message: 'Something went wrong. Please try again.' } };
}

async function runAction<S extends z.ZodType, C, T>(
  formData: FormData,
  schema: S,
  omit: readonly string[],
  authorize: () => Promise<C>,
  fn: (input: z.output<S>, ctx: C) => Promise<ActionOutput<T>>,
): Promise<ActionResult<T>> {
  try {
    // Authorize before validating, so callers without access learn nothing from validation messages.
    const ctx = await authorize();
    const raw = formDataToObject(formData, omit);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      return {
        ok: false,
        error: { code: 'validation_failed', message: 'Please correct the highlighted fields' },
        fieldErrors: zodFieldErrors(parsed.error, raw),
      };
    }
    return toSuccess(await fn(parsed.data, ctx));
  } catch (err) {
    unstable_rethrow(err);
    return toFailure(err);
  }
}

/**
 * An action on an org: the slug comes from the form field `org`, the signed-in user must be a member whose
 * role has `permission`.
 */
export function orgAction<S extends z.ZodType, T = unknown>(
  permission: Permission,
  schema: S,
  fn: (input: z.output<S>, ctx: OrgContext) => Promise<ActionOutput<T>>,
): FormAction<T> {
  return async (_prevState, formData) =>
    runAction(
      formData,
      schema,
      ['org'],
      () => {
        const org = formData.get('org');
        if (typeof org !== 'string' || org === '') throw new AppError('not_found', 'Not found');
        return authorizeOrg(org, permission);
      },
      fn,
    );
}

/** An action of any signed-in user that concerns no org (accepting an invitation, creating an org). */
export function userAction<S extends z.ZodType, T = unknown>(
  schema: S,
  fn: (input: z.output<S>, user: SessionUser) => Promise<ActionOutput<T>>,
): FormAction<T> {
  return async (_prevState, formData) =>
    runAction(
      formData,
      schema,
      [],
      async () => {
        const user = await getSessionUser();
        if (!user) throw new AppError('unauthenticated', 'Sign in to continue');
        return user;
      },
      fn,
    );
}

/** An action anyone may call (sign-up, accepting an invitation as a new user). */
export function publicAction<S extends z.ZodType, T = unknown>(
  schema: S,
  fn: (input: z.output<S>) => Promise<ActionOutput<T>>,
): FormAction<T> {
  return async (_prevState, formData) => runAction(formData, schema, [], async () => null, (input) => fn(input));
}
