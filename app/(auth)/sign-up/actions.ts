'use server';

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { publicAction } from '@/lib/auth/action';
import { passwordSchema } from '@/lib/auth/password';
import { db } from '@/lib/db/client';
import { AppError } from '@/lib/http/errors';
import { createOrg, orgNameSchema, orgSlugSchema } from '@/lib/orgs/orgs';
import { createUser, emailSchema, withTransaction } from '@/lib/users/create-user';

const signUpSchema = z.object({
  name: z.string().trim().min(1, 'Enter your name').max(200, 'Name is too long'),
  email: emailSchema,
  password: passwordSchema,
  orgName: orgNameSchema,
});

/** A slug from the org's name: lowercase words joined by hyphens, with a random suffix when needed. */
function slugFromName(name: string, withSuffix: boolean): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  const suffix = randomBytes(3).toString('hex');
  if (withSuffix || !orgSlugSchema.safeParse(base).success) return base ? `${base}-${suffix}` : `org-${suffix}`;
  return base;
}

const slugAttempts = 4;

/** Creates the account and its org in one transaction, so a failure leaves neither behind. */
export const signUpAction = publicAction(signUpSchema, async ({ name, email, password, orgName }) => {
  for (let attempt = 0; attempt < slugAttempts; attempt++) {
    const slug = slugFromName(orgName, attempt > 0);
    try {
      const org = await withTransaction(db, async (tx) => {
        const created = await createOrg(tx, { slug, name: orgName }, { type: 'system' });
        await createUser(tx, { email, name, password, org: { id: created.id, role: 'owner' } }, { type: 'system' });
        return created;
      });
      return { slug: org.slug };
    } catch (err) {
      // Another org already uses this slug: try again with a random suffix. Anything else is the user's to fix.
      const slugTaken = err instanceof AppError && err.code === 'conflict' && err.details?.field === 'slug';
      if (!slugTaken) throw err;
    }
  }
  throw new AppError('conflict', 'Could not find a free address for this organization; try another name', {
    field: 'orgName',
  });
});
