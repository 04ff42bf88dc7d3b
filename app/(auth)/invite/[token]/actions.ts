'use server';

import { z } from 'zod';
import { publicAction, userAction } from '@/lib/auth/action';
import { passwordSchema } from '@/lib/auth/password';
import { db } from '@/lib/db/client';
import { acceptInvitation } from '@/lib/orgs/invitations';

const tokenSchema = z.string().trim().min(1, 'The invitation link is incomplete').max(200);

/** A new user joins through the link; the client signs in with the same credentials afterwards. */
export const acceptInvitationAsNewUserAction = publicAction(
  z.object({
    token: tokenSchema,
    name: z.string().trim().min(1, 'Enter your name').max(200, 'Name is too long'),
    password: passwordSchema,
  }),
  async ({ token, name, password }) => {
    const { user, org } = await acceptInvitation(db, token, { name, password });
    return { email: user.email ?? '', orgSlug: org.slug };
  },
);

/** The signed-in user joins; the invitation must have been sent to their email. */
export const acceptInvitationAction = userAction(z.object({ token: tokenSchema }), async ({ token }, user) => {
  const { org } = await acceptInvitation(db, token, { userId: user.id });
  return { orgSlug: org.slug };
});
