'use server';

import { revalidatePath } from 'next/cache';
import { headers } from 'next/headers';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import { db } from '@/lib/db/client';
import { getEnv } from '@/lib/env';
import { createInvitation, revokeInvitation } from '@/lib/orgs/invitations';
import { changeMemberRole, removeMember } from '@/lib/orgs/orgs';
import { emailSchema } from '@/lib/users/create-user';

const roleSchema = z.enum(['owner', 'admin', 'billing', 'member'], { error: 'Choose a role' });
const idSchema = z.string().trim().min(1);

/** Invitation links are absolute: NEXTAUTH_URL when configured, else the host this request came to. */
async function publicBaseUrl(): Promise<string> {
  const configured = getEnv().NEXTAUTH_URL;
  if (configured) return configured;
  const h = await headers();
  const host = h.get('x-forwarded-host') ?? h.get('host') ?? 'localhost';
  const proto = h.get('x-forwarded-proto') ?? (host.startsWith('localhost') || host.startsWith('127.') ? 'http' : 'https');
  return `${proto}://${host}`;
}

export const inviteMemberAction = orgAction(
  'users:manage',
  z.object({ email: emailSchema, role: roleSchema }),
  async ({ email, role }, ctx) => {
    const { invitation, path } = await createInvitation(
      db,
      {
        orgId: ctx.org.id,
        email,
        role,
        invitedById: ctx.user.id,
        ttlHours: getEnv().INVITATION_TTL_HOURS,
      },
      ctx.membership.role,
    );
    revalidatePath(`/${ctx.org.slug}/users`);
    return {
      email: invitation.email,
      role: invitation.role,
      link: new URL(path, await publicBaseUrl()).toString(),
    };
  },
);

export const revokeInvitationAction = orgAction(
  'users:manage',
  z.object({ invitationId: idSchema }),
  async ({ invitationId }, ctx) => {
    await revokeInvitation(db, ctx.org.id, invitationId, { type: 'user', userId: ctx.user.id });
    revalidatePath(`/${ctx.org.slug}/users`);
    return null;
  },
);

export const changeMemberRoleAction = orgAction(
  'users:manage',
  z.object({ membershipId: idSchema, role: roleSchema }),
  async ({ membershipId, role }, ctx) => {
    await changeMemberRole(db, { orgId: ctx.org.id, membershipId, role }, ctx);
    revalidatePath(`/${ctx.org.slug}/users`);
    return null;
  },
);

export const removeMemberAction = orgAction(
  'users:manage',
  z.object({ membershipId: idSchema }),
  async ({ membershipId }, ctx) => {
    await removeMember(db, { orgId: ctx.org.id, membershipId }, ctx);
    revalidatePath(`/${ctx.org.slug}/users`);
    return null;
  },
);
