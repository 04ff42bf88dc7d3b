/** Form fields of credit amounts and durations: decimal strings in, bigint micro-credits or seconds out. */
import { z } from 'zod';
import { parseCredits } from '@/lib/money/credits';

const amountHint = 'Enter credits as a number with at most 6 decimals, like 12.5';

function amount(options: { allowZero: boolean }) {
  return z.string({ error: 'Enter an amount' }).transform((value, ctx) => {
    let micros: bigint;
    try {
      micros = parseCredits(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: value.trim().startsWith('-') ? 'Enter an amount that is not negative' : amountHint });
      return z.NEVER;
    }
    if (!options.allowZero && micros === 0n) {
      ctx.addIssue({ code: 'custom', message: 'Enter an amount greater than 0' });
      return z.NEVER;
    }
    return micros;
  });
}

/** A required amount greater than zero. */
export const creditsField = amount({ allowZero: false });

/** An amount that may be left empty, which means none: null. */
export const optionalCreditsField = amount({ allowZero: true })
  .optional()
  .transform((v) => v ?? null);

/** Seconds, 1 to 24 hours. */
export const ttlField = z.coerce
  .number({ error: 'Enter a number of seconds' })
  .int('Enter a whole number of seconds')
  .min(1, 'At least 1 second')
  .max(86_400, 'At most 86400 seconds (24 hours)');
