'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { orgAction } from '@/lib/auth/action';
import { AppError } from '@/lib/http/errors';
import { getLedgerContext } from '@/lib/ledger/context';
import { removeModelOverride, saveModelOverride } from '@/lib/pricing/org-overrides';
import { createOrgPriceVersion } from '@/lib/pricing/org-prices';
import { parseUsd } from '@/lib/pricing/usd';

/** A positive USD price per million tokens, kept as the decimal string typed. */
const usdField = z
  .string({ error: 'Enter a price' })
  .trim()
  .refine((v) => parseUsd(v) !== null, 'Enter USD per million tokens, like 2.5')
  .refine((v) => parseUsd(v) !== 0n, 'A price must be greater than 0');

const bps = (min: number, max: number) =>
  z.coerce.number({ error: 'Enter a whole number' }).int('Enter a whole number').min(min, `At least ${min}`).max(max, `At most ${max}`);

const settingsSchema = z
  .object({
    credits_per_usd: z.string({ error: 'Enter a rate' }).trim().regex(/^\d+(\.\d{1,6})?$/, 'Enter credits, like 100'),
    markup_bps: bps(-9999, 100_000),
    estimate_margin_bps: bps(0, 100_000),
    estimate_output_cap: bps(1, 10_000_000),
    default_input: usdField.optional(),
    default_output: usdField.optional(),
    discounts: z
      .string()
      .trim()
      .regex(/^\d+(\.\d{1,6})?:\d{1,4}(\s*,\s*\d+(\.\d{1,6})?:\d{1,4})*$/, 'Write tiers as credits:basis points, like 1000:500, 10000:1000')
      .transform((text) =>
        text.split(',').map((pair) => {
          const [from, bps] = pair.trim().split(':');
          return { from_credits: from, discount_bps: Number(bps) };
        }),
      )
      .optional(),
    note: z.string().trim().max(500, 'Keep the note under 500 characters').optional(),
  })
  .refine((v) => (v.default_input === undefined) === (v.default_output === undefined), {
    message: 'Give both prices for unknown models, or neither',
    path: ['default_output'],
  });

export const savePricingSettingsAction = orgAction('pricing:manage', settingsSchema, async (input, ctx) => {
  if (/^0+(\.0+)?$/.test(input.credits_per_usd)) throw new AppError('validation_failed', 'The rate must be greater than 0', { field: 'credits_per_usd' });
  await createOrgPriceVersion(
    getLedgerContext(),
    ctx.org.id,
    {
      credits_per_usd: input.credits_per_usd,
      markup_bps: input.markup_bps,
      estimate_margin_bps: input.estimate_margin_bps,
      estimate_output_cap: input.estimate_output_cap,
      default_price: input.default_input && input.default_output ? { input: input.default_input, output: input.default_output } : null,
      discount_tiers: input.discounts ?? [],
      note: input.note ?? 'Settings changed',
    },
    ctx.user.id,
  );
  revalidatePath(`/${ctx.org.slug}/models`);
  return { ok: true, message: 'Saved as a new price version, in force now.' };
});

const overrideSchema = z
  .object({
    model: z.string({ error: 'Enter a model name' }).trim().min(1, 'Enter a model name').max(200, 'Model name is too long'),
    provider: z.string().trim().max(100).optional(),
    prefix: z.literal('on').optional(),
    input_only: z.literal('on').optional(),
    input: usdField,
    output: usdField.optional(),
    cached_input: usdField.optional(),
    cache_write: usdField.optional(),
    reasoning: usdField.optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.input_only && v.output === undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'Enter a price, or mark the model input only' });
    if (v.input_only && v.output !== undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'An input-only model has no output price' });
    if (v.input_only && v.reasoning !== undefined) ctx.addIssue({ code: 'custom', path: ['reasoning'], message: 'An input-only model has no reasoning price' });
  });

export const saveModelOverrideAction = orgAction('pricing:manage', overrideSchema, async (input, ctx) => {
  await saveModelOverride(
    getLedgerContext(),
    ctx.org.id,
    {
      model: input.model,
      provider: input.provider || 'custom',
      match: input.prefix ? { starts_with: input.model } : { equals: input.model },
      input: input.input,
      output: input.output,
      input_only: Boolean(input.input_only),
      cached_input: input.cached_input,
      cache_write: input.cache_write,
      reasoning: input.reasoning,
    },
    ctx.user.id,
  );
  revalidatePath(`/${ctx.org.slug}/models`);
  return { ok: true, message: `The price of ${input.model} is saved as a new version.` };
});

export const removeModelOverrideAction = orgAction('pricing:manage', z.object({ model: z.string().trim().min(1).max(200) }), async (input, ctx) => {
  await removeModelOverride(getLedgerContext(), ctx.org.id, input.model, ctx.user.id);
  revalidatePath(`/${ctx.org.slug}/models`);
  return { ok: true, message: `${input.model} is priced by the catalog again.` };
});
