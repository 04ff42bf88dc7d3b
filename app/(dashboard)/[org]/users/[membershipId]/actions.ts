'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import { db } from '@/lib/db/client';
import { AppError } from '@/lib/http/errors';
import { getLedgerContext } from '@/lib/ledger/context';
import { updateMemberPolicy } from '@/lib/ledger/policies';
import { optionalCreditsField } from '../../pool/credit-fields';

const memberPolicySchema = z.object({
  membershipId: z.uuid({ error: 'Member not found' }),
  auto_allocation: optionalCreditsField,
  monthly_refill_to: optionalCreditsField,
  pool_fallback: z.enum(['inherit', 'on', 'off'], { error: 'Choose a pool fallback setting' }).default('inherit'),
  pool_daily_limit: optionalCreditsField,
  pool_monthly_limit: optionalCreditsField,
});

/** A member's overrides of the org policy; an empty field (or "org default") inherits the org's value. */
export const updateMemberPolicyAction = orgAction('pool:manage', memberPolicySchema, async (input, ctx) => {
  const membership = await db.membership.findFirst({ where: { id: input.membershipId, orgId: ctx.org.id }, select: { id: true } });
  if (!membership) throw new AppError('not_found', 'Member not found');
  await updateMemberPolicy(
    getLedgerContext(),
    ctx.org.id,
    membership.id,
    {
      auto_allocation: input.auto_allocation,
      monthly_refill_to: input.monthly_refill_to,
      pool_fallback: input.pool_fallback === 'inherit' ? null : input.pool_fallback === 'on',
      pool_daily_limit: input.pool_daily_limit,
      pool_monthly_limit: input.pool_monthly_limit,
    },
    { type: 'user', userId: ctx.user.id },
  );
  revalidatePath(`/${ctx.org.slug}/users/${membership.id}`);
  return null;
});
