/**
 * Invitations by link. The token (32 random bytes) is shown once, in the link; only its SHA-256 is stored, so
 * a leaked database cannot be used to join an org. Expiry is decided by the database clock. An invitation is
 * accepted at most once: acceptance is a conditional UPDATE that only one transaction can win, and the
 * membership it creates commits or rolls back with it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Invitation, Role } from '../generated/prisma/client.ts';
import { type Actor, recordAudit } from '../auth/actor.ts';
import { passwordSchema } from '../auth/password.ts';
import { rolesAssignableBy } from '../auth/permissions.ts';
import { AppError } from '../http/errors.ts';
import {
  addMembership,
  type CreatedUser,
  createUser,
  type DbOrTx,
  emailSchema,
  userNameSchema,
  withTransaction,
} from '../users/create-user.ts';

export type InvitationStatus = 'pending' | 'accepted' | 'expired' | 'revoked';

export type InvitationRow = {
  id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  invitedBy: { id: string; name: string | null; email: string | null } | null;
};

type InvitationOrg = { id: string; slug: string; name: string };

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function invitationPath(token: string): string {
  return `/invite/${token}`;
}

async function databaseNow(db: DbOrTx): Promise<Date> {
  const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
  return row!.now;
}

function statusOf(inv: Pick<Invitation, 'acceptedAt' | 'revokedAt' | 'expiresAt'>, now: Date): InvitationStatus {
  if (inv.acceptedAt) return 'accepted';
  if (inv.revokedAt) return 'revoked';
  return inv.expiresAt > now ? 'pending' : 'expired';
}

/**
 * Invites `email` to the org with `role`. Older pending invitations for the same email are revoked, so only
 * the newest link works.
 */
export async function createInvitation(
  db: DbOrTx,
  input: { orgId: string; email: string; role: Role; invitedById: string | null; ttlHours: number },
  actorRole: Role,
): Promise<{ invitation: Invitation; token: string; path: string }> {
  const parsedEmail = emailSchema.safeParse(input.email);
  if (!parsedEmail.success) {
    throw new AppError('validation_failed', 'Enter a valid email address', { field: 'email' });
  }
  const email = parsedEmail.data;
  if (!rolesAssignableBy(actorRole).includes(input.role)) {
    throw new AppError('forbidden', `You cannot invite someone with the ${input.role} role`);
  }
  if (!Number.isInteger(input.ttlHours) || input.ttlHours < 1) {
    throw new AppError('validation_failed', 'Invitation lifetime must be a whole number of hours', {
      field: 'ttlHours',
    });
  }
  const token = randomBytes(32).toString('base64url');
  const actor: Actor = input.invitedById ? { type: 'user', userId: input.invitedById } : { type: 'system' };

  const invitation = await withTransaction(db, async (tx) => {
    const member = await tx.membership.findFirst({
      where: { orgId: input.orgId, user: { email } },
      select: { id: true },
    });
    if (member) throw new AppError('conflict', 'This person is already a member of the org', { field: 'email' });
    await tx.invitation.updateMany({
      where: { orgId: input.orgId, email, acceptedAt: null, revokedAt: null },
      data: { revokedAt: await databaseNow(tx) },
    });
    const [row] = await tx.$queryRaw<{ expires_at: Date }[]>`
      SELECT now() + make_interval(hours => ${input.ttlHours}::int) AS expires_at`;
    const created = await tx.invitation.create({
      data: {
        orgId: input.orgId,
        email,
        role: input.role,
        tokenHash: hashInvitationToken(token),
        expiresAt: row!.expires_at,
        invitedById: input.invitedById,
      },
    });
    await recordAudit(tx, {
      orgId: input.orgId,
      actor,
      action: 'invitation.created',
      targetType: 'invitation',
      targetId: created.id,
      data: { email, role: input.role },
    });
    return created;
  });
  return { invitation, token, path: invitationPath(token) };
}

/** The org's invitations, newest first, with their status by the database clock. */
export async function listInvitations(db: DbOrTx, orgId: string): Promise<InvitationRow[]> {
  const [now, rows] = await Promise.all([
    databaseNow(db),
    db.invitation.findMany({
      where: { orgId },
      select: {
        id: true,
        email: true,
        role: true,
        expiresAt: true,
        acceptedAt: true,
        revokedAt: true,
        createdAt: true,
        invitedBy: { select: { id: true, name: true, email: true } },
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
  ]);
  return rows.map((r) => ({ ...r, status: statusOf(r, now) }));
}

/** Revokes a pending invitation; revoking twice is harmless, an accepted one is a conflict. */
export async function revokeInvitation(
  db: DbOrTx,
  orgId: string,
  id: string,
  actor: Actor = { type: 'system' },
): Promise<Invitation> {
  if (!uuidPattern.test(id)) throw new AppError('not_found', 'Invitation not found');
  return withTransaction(db, async (tx) => {
    const invitation = await tx.invitation.findFirst({ where: { id, orgId } });
    if (!invitation) throw new AppError('not_found', 'Invitation not found');
    if (invitation.revokedAt) return invitation;
    if (invitation.acceptedAt) {
      throw new AppError('conflict', 'This invitation has already been accepted', { reason: 'accepted' });
    }
    const revoked = await tx.invitation.update({ where: { id }, data: { revokedAt: await databaseNow(tx) } });
    await recordAudit(tx, {
      orgId,
      actor,
      action: 'invitation.revoked',
      targetType: 'invitation',
      targetId: id,
      data: { email: invitation.email },
    });
    return revoked;
  });
}

function unusableInvitationError(status: Exclude<InvitationStatus, 'pending'>): AppError {
  const messages = {
    expired: 'This invitation has expired. Ask for a new one.',
    revoked: 'This invitation has been revoked.',
    accepted: 'This invitation has already been used.',
  } as const;
  return new AppError('conflict', messages[status], { reason: status });
}

/**
 * The invitation behind a link, for the acceptance page. Unknown tokens are not_found; expired, revoked and
 * used ones are conflicts with `details.reason` set to `expired`, `revoked` or `accepted`.
 */
export async function getInvitationByToken(
  db: DbOrTx,
  token: string,
): Promise<{ invitation: Invitation; org: InvitationOrg }> {
  const found = await db.invitation.findUnique({
    where: { tokenHash: hashInvitationToken(token) },
    include: { org: { select: { id: true, slug: true, name: true } } },
  });
  if (!found) throw new AppError('not_found', 'Invitation not found');
  const { org, ...invitation } = found;
  const status = statusOf(invitation, await databaseNow(db));
  if (status !== 'pending') throw unusableInvitationError(status);
  return { invitation, org };
}

export type AcceptAs = { userId: string } | { name: string; password: string };

/**
 * Accepts an invitation as an existing signed-in user (whose email must be the invited one) or as a new user
 * created with the invited email. The acceptance and the membership are one transaction.
 */
export async function acceptInvitation(
  db: DbOrTx,
  token: string,
  as: AcceptAs,
): Promise<{ user: CreatedUser; org: InvitationOrg; role: Role }> {
  let newUser: { name: string | null; password: string } | null = null;
  if (!('userId' in as)) {
    const password = passwordSchema.safeParse(as.password);
    if (!password.success) {
      throw new AppError('validation_failed', password.error.issues[0]!.message, { field: 'password' });
    }
    const name = userNameSchema.safeParse(as.name ?? '');
    if (!name.success) throw new AppError('validation_failed', name.error.issues[0]!.message, { field: 'name' });
    newUser = { name: name.data || null, password: password.data };
  }
  const tokenHash = hashInvitationToken(token);

  return withTransaction(db, async (tx) => {
    // The row lock taken by this UPDATE makes a concurrent acceptance wait, then re-check the conditions and
    // find accepted_at set: exactly one acceptance wins.
    const won = await tx.$queryRaw<{ id: string }[]>`
      UPDATE invitations SET accepted_at = now()
      WHERE token_hash = ${tokenHash} AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
      RETURNING id::text AS id`;
    if (won.length === 0) {
      await getInvitationByToken(tx, token);
      throw unusableInvitationError('accepted');
    }
    const invitation = await tx.invitation.findUniqueOrThrow({
      where: { id: won[0]!.id },
      include: { org: { select: { id: true, slug: true, name: true } } },
    });
    const { org } = invitation;

    let user: CreatedUser;
    if ('userId' in as) {
      const existing = uuidPattern.test(as.userId)
        ? await tx.user.findUnique({
            where: { id: as.userId },
            select: { id: true, email: true, name: true, createdAt: true },
          })
        : null;
      if (!existing) throw new AppError('unauthenticated', 'Sign in to accept this invitation');
      if (existing.email?.toLowerCase() !== invitation.email.toLowerCase()) {
        throw new AppError('forbidden', `This invitation was sent to ${invitation.email}. Sign in with that email.`);
      }
      await addMembership(tx, { orgId: org.id, userId: existing.id, role: invitation.role }, {
        type: 'user',
        userId: existing.id,
      });
      user = existing;
    } else {
      const created = await createUser(
        tx,
        { email: invitation.email, name: newUser!.name, password: newUser!.password, org: { id: org.id, role: invitation.role } },
        { type: 'system' },
      );
      user = created.user;
    }
    await recordAudit(tx, {
      orgId: org.id,
      actor: { type: 'user', userId: user.id },
      action: 'invitation.accepted',
      targetType: 'invitation',
      targetId: invitation.id,
      data: { email: invitation.email, role: invitation.role },
    });
    return { user, org, role: invitation.role };
  });
}
