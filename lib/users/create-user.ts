/**
 * Users and memberships come into existence only here: sign-up, invitation acceptance, the admin CLI, the API,
 * OAuth sign-in and the seed all call `createUser` or `addMembership`. Invariants: emails are stored trimmed
 * and lowercased and are unique; an external id is unique inside an org; every new membership is audited and
 * passes through `afterUserJoinedOrg` in the same transaction.
 */
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { Prisma, type Membership, type Role } from '../generated/prisma/client.ts';
import { type Actor, recordAudit } from '../auth/actor.ts';
import { hashPassword, passwordSchema } from '../auth/password.ts';
import { AppError } from '../http/errors.ts';
import { afterUserJoinedOrg } from './hooks.ts';

export type Tx = Prisma.TransactionClient;
export type DbOrTx = Db | Tx;

/** Runs `fn` in a new transaction, or inside the caller's transaction when given one. */
export async function withTransaction<T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // A property read, not `in`: the shared `db` is a proxy that only forwards reads.
  const client = db as Db;
  if (typeof client.$transaction === 'function') return client.$transaction(fn);
  return fn(db as Tx);
}

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'Email is too long')
  .pipe(z.email('Enter a valid email address'));

export const externalIdSchema = z.string().trim().min(1).max(200, 'External id is too long');

export const userNameSchema = z.string().trim().max(200, 'Name is too long');

export type CreateUserInput = {
  email?: string | null;
  name?: string | null;
  password?: string | null;
  externalId?: string | null;
  org?: { id: string; role: Role } | null;
};

export const userSelect = { id: true, email: true, name: true, createdAt: true } as const;
export type CreatedUser = { id: string; email: string | null; name: string | null; createdAt: Date };

export const duplicateEmailMessage = 'A user with this email already exists';
export const duplicateExternalIdMessage = 'A user with this external id already exists in this org';

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError('validation_failed', result.error.issues[0]?.message ?? `Invalid ${field}`, { field });
  }
  return result.data;
}

function blankToNull(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return value.trim() === '' ? null : value;
}

/** The columns of a unique violation, as reported by Prisma with or without a driver adapter. */
export function uniqueViolationFields(err: unknown): string[] | null {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') return null;
  const meta = (err.meta ?? {}) as Record<string, unknown>;
  if (Array.isArray(meta.target)) return meta.target.map(String);
  if (typeof meta.target === 'string') return [meta.target];
  const cause = (meta.driverAdapterError as { cause?: { constraint?: { fields?: unknown; index?: unknown } } })
    ?.cause;
  const fields = cause?.constraint?.fields;
  if (Array.isArray(fields)) return fields.map((f) => String(f).replace(/"/g, ''));
  if (typeof cause?.constraint?.index === 'string') return [cause.constraint.index];
  return [];
}

/** Maps a unique violation raised by a concurrent writer to the conflict a caller would have got first. */
function conflictFromUniqueViolation(err: unknown): AppError | null {
  const fields = uniqueViolationFields(err);
  if (!fields) return null;
  const joined = fields.join(',');
  if (joined.includes('external')) return new AppError('conflict', duplicateExternalIdMessage);
  if (joined.includes('user_id') || joined.includes('userId')) {
    return new AppError('conflict', 'This user is already a member of the org');
  }
  return new AppError('conflict', duplicateEmailMessage);
}

async function insertMembership(
  tx: Tx,
  input: { orgId: string; userId: string; role: Role; externalId: string | null },
  actor: Actor,
  audit: { createdUser: boolean },
): Promise<Membership> {
  if (input.externalId !== null) {
    const taken = await tx.membership.findUnique({
      where: { orgId_externalId: { orgId: input.orgId, externalId: input.externalId } },
      select: { id: true },
    });
    if (taken) throw new AppError('conflict', duplicateExternalIdMessage);
  }
  const membership = await tx.membership.create({
    data: { orgId: input.orgId, userId: input.userId, role: input.role, externalId: input.externalId },
  });
  await recordAudit(tx, {
    orgId: input.orgId,
    actor,
    action: 'member.added',
    targetType: 'user',
    targetId: input.userId,
    data: { membershipId: membership.id, role: input.role, externalId: input.externalId, newUser: audit.createdUser },
  });
  await afterUserJoinedOrg(tx, membership);
  return membership;
}

/**
 * Creates a user, and their membership when `org` is given, in one transaction (the caller's, if `db` is one).
 * Users without an email (end users known only by an external id) can never sign in.
 */
export async function createUser(
  db: DbOrTx,
  input: CreateUserInput,
  actor: Actor,
): Promise<{ user: CreatedUser; membership: Membership | null }> {
  const rawEmail = blankToNull(input.email);
  const email = rawEmail === null ? null : parseOrThrow(emailSchema, rawEmail, 'email');
  const rawName = blankToNull(input.name);
  const name = rawName === null ? null : parseOrThrow(userNameSchema, rawName, 'name') || null;
  const rawExternalId = blankToNull(input.externalId);
  const externalId = rawExternalId === null ? null : parseOrThrow(externalIdSchema, rawExternalId, 'externalId');
  if (externalId !== null && !input.org) {
    throw new AppError('validation_failed', 'An external id needs an org', { field: 'externalId' });
  }
  const password = blankToNull(input.password);
  // Hashing takes tens of milliseconds; do it before opening the transaction.
  const passwordHash = password === null ? null : await hashPassword(parseOrThrow(passwordSchema, password, 'password'));

  try {
    return await withTransaction(db, async (tx) => {
      if (email !== null) {
        const existing = await tx.user.findUnique({ where: { email }, select: { id: true } });
        if (existing) throw new AppError('conflict', duplicateEmailMessage);
      }
      if (externalId !== null && input.org) {
        const taken = await tx.membership.findUnique({
          where: { orgId_externalId: { orgId: input.org.id, externalId } },
          select: { id: true },
        });
        if (taken) throw new AppError('conflict', duplicateExternalIdMessage);
      }
      const user = await tx.user.create({ data: { email, name, passwordHash }, select: userSelect });
      const membership = input.org
        ? await insertMembership(
            tx,
            { orgId: input.org.id, userId: user.id, role: input.org.role, externalId },
            actor,
            { createdUser: true },
          )
        : null;
      return { user, membership };
    });
  } catch (err) {
    throw conflictFromUniqueViolation(err) ?? err;
  }
}

/** Adds an existing user to an org (another org than the one they were created in, or an invitation). */
export async function addMembership(
  db: DbOrTx,
  input: { orgId: string; userId: string; role: Role; externalId?: string | null },
  actor: Actor,
): Promise<Membership> {
  const rawExternalId = blankToNull(input.externalId);
  const externalId = rawExternalId === null ? null : parseOrThrow(externalIdSchema, rawExternalId, 'externalId');
  try {
    return await withTransaction(db, async (tx) => {
      const existing = await tx.membership.findUnique({
        where: { orgId_userId: { orgId: input.orgId, userId: input.userId } },
        select: { id: true },
      });
      if (existing) throw new AppError('conflict', 'This user is already a member of the org');
      return insertMembership(
        tx,
        { orgId: input.orgId, userId: input.userId, role: input.role, externalId },
        actor,
        { createdUser: false },
      );
    });
  } catch (err) {
    throw conflictFromUniqueViolation(err) ?? err;
  }
}
