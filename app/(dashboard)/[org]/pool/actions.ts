'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import type { OrgContext } from '@/lib/auth/authorize';
import { AppError } from '@/lib/http/errors';
import { getLedgerContext } from '@/lib/ledger/context';
import { allocateCredits, grantCredits, reclaimCredits, transferCredits } from '@/lib/ledger/credits';
import { updateOrgPolicy } from '@/lib/ledger/policies';
import { formatCredits } from '@/lib/money/credits';
import { creditsField, optionalCreditsField, ttlField } from './credit-fields';

const actorOf = (ctx: OrgContext) => ({ type: 'user', userId: ctx.user.id }) as const;

/** Credits show on every page of the org (overview, pool, users, ledger) and on members' own balance. */
function revalidateCredits(ctx: OrgContext) {
  revalidatePath(`/${ctx.org.slug}`, 'layout');
  revalidatePath('/balance');
}

// A `datetime-local` value, taken as UTC like every time the dashboard shows.
const DATETIME_LOCAL = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(\.\d{1,3})?)?$/;

const grantSchema = z.object({
  amount: creditsField,
  reason: z.string({ error: 'Enter a reason' }).trim().min(1, 'Enter a reason').max(500, 'Keep the reason under 500 characters'),
  source: z.enum(['promotion', 'adjustment'], { error: 'Choose a kind of grant' }).default('promotion'),
  expires_at: z
    .string()
    .regex(DATETIME_LOCAL, 'Enter a date and time')
    .transform((value) => {
      const match = DATETIME_LOCAL.exec(value) as RegExpExecArray;
      return `${match[1]}${match[2] ?? ':00'}Z`;
    })
    .refine((iso) => !Number.isNaN(new Date(iso).getTime()), 'Enter a real date and time')
    .optional(),
  priority: z.coerce
    .number({ error: 'Enter a whole number' })
    .int('Enter a whole number')
    .min(-1000, 'Priority is at least -1000')
    .max(1000, 'Priority is at most 1000')
    .optional(),
});

export const grantCreditsAction = orgAction('pool:manage', grantSchema, async (input, ctx) => {
  if (input.expires_at && new Date(input.expires_at) <= new Date()) {
    throw new AppError('validation_failed', 'Choose an expiry in the future', { field: 'expires_at' });
  }
  const grant = await grantCredits(
    getLedgerContext(),
    ctx.org.id,
    { amount: input.amount, reason: input.reason, source: input.source, expires_at: input.expires_at, priority: input.priority },
    actorOf(ctx),
  );
  revalidateCredits(ctx);
  return { amount: grant.amount, expiresAt: grant.expires_at, available: grant.balance.available };
});

const memberCreditsSchema = z.object({
  direction: z.enum(['allocate', 'reclaim'], { error: 'Choose allocate or reclaim' }),
  user: z.string({ error: 'Choose a member' }).trim().min(1, 'Choose a member').max(200),
  amount: creditsField,
});

/** Pool -> member (allocate) or member -> pool (reclaim); the form's submit button says which. */
export const memberCreditsAction = orgAction('pool:manage', memberCreditsSchema, async (input, ctx) => {
  const ledger = getLedgerContext();
  const moved =
    input.direction === 'allocate'
      ? await allocateCredits(ledger, ctx.org.id, { user: input.user, amount: input.amount }, actorOf(ctx))
      : await reclaimCredits(ledger, ctx.org.id, { user: input.user, amount: input.amount }, actorOf(ctx));
  revalidateCredits(ctx);
  const memberBalance = input.direction === 'allocate' ? moved.to_balance : moved.from_balance;
  return { direction: input.direction, amount: moved.amount, memberAvailable: memberBalance.available };
});

const POOL = 'pool';

const transferSchema = z
  .object({
    from: z.string({ error: 'Choose where the credits come from' }).trim().min(1).max(200),
    to: z.string({ error: 'Choose where the credits go' }).trim().min(1).max(200),
    amount: creditsField,
    reason: z.string().trim().max(500, 'Keep the reason under 500 characters').optional(),
  })
  .refine((v) => v.from !== v.to, { message: 'Choose a destination other than the source', path: ['to'] });

export const transferCreditsAction = orgAction('pool:manage', transferSchema, async (input, ctx) => {
  const moved = await transferCredits(
    getLedgerContext(),
    ctx.org.id,
    {
      from_user: input.from === POOL ? undefined : input.from,
      to_user: input.to === POOL ? undefined : input.to,
      amount: input.amount,
      reason: input.reason,
    },
    actorOf(ctx),
  );
  revalidateCredits(ctx);
  return { amount: moved.amount };
});

const orgPolicySchema = z.object({
  auto_allocation: optionalCreditsField,
  monthly_refill_to: optionalCreditsField,
  // A checkbox: present when on, absent when off.
  pool_fallback: z.literal('on').optional(),
  pool_daily_limit: optionalCreditsField,
  pool_monthly_limit: optionalCreditsField,
  overdraft_limit: optionalCreditsField,
  default_reservation_ttl_seconds: ttlField,
  max_reservation_ttl_seconds: ttlField,
});

/** Every field of the form is sent: an empty amount means none (no refill, no limit, zero). */
export const updateOrgPolicyAction = orgAction('pool:manage', orgPolicySchema, async (input, ctx) => {
  const saved = await updateOrgPolicy(
    getLedgerContext(),
    ctx.org.id,
    {
      auto_allocation: input.auto_allocation ?? 0n,
      monthly_refill_to: input.monthly_refill_to,
      pool_fallback: input.pool_fallback === 'on',
      pool_daily_limit: input.pool_daily_limit,
      pool_monthly_limit: input.pool_monthly_limit,
      overdraft_limit: input.overdraft_limit ?? 0n,
      default_reservation_ttl_seconds: input.default_reservation_ttl_seconds,
      max_reservation_ttl_seconds: input.max_reservation_ttl_seconds,
    },
    actorOf(ctx),
  );
  revalidateCredits(ctx);
  return { autoAllocation: formatCredits(saved.autoAllocation) };
});
