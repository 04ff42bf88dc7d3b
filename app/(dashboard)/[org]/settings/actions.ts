'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import { db } from '@/lib/db/client';
import { orgNameSchema, renameOrg } from '@/lib/orgs/orgs';

export const renameOrgAction = orgAction('settings:manage', z.object({ name: orgNameSchema }), async ({ name }, ctx) => {
  const org = await renameOrg(db, { orgId: ctx.org.id, name }, { type: 'user', userId: ctx.user.id });
  // The name appears in the sidebar of every page of the org.
  revalidatePath(`/${ctx.org.slug}`, 'layout');
  return { name: org.name };
});
