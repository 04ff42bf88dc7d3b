/**
 * Match rules on model names, the catalog's own format: {equals}, {starts_with}, {ends_with}, {contains},
 * {regex}, {or: [...]}, {and: [...]}. Comparisons other than regex ignore case, as the catalog's do.
 */
import { z } from 'zod';

export type MatchRule =
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string }
  | { or: MatchRule[] }
  | { and: MatchRule[] };

const text = z.string().min(1).max(200);

export const matchRuleSchema: z.ZodType<MatchRule> = z.lazy(() =>
  z.union([
    z.strictObject({ equals: text }),
    z.strictObject({ starts_with: text }),
    z.strictObject({ ends_with: text }),
    z.strictObject({ contains: text }),
    z.strictObject({
      regex: text.refine((source) => {
        try {
          new RegExp(source);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression'),
    }),
    z.strictObject({ or: z.array(matchRuleSchema).min(1).max(50) }),
    z.strictObject({ and: z.array(matchRuleSchema).min(1).max(50) }),
  ]),
);

/**
 * Rules an org may write: no regex, so a rule typed in the dashboard can never make matching slow on the
 * metering path (the catalog's regexes are reviewed data).
 */
export const orgMatchRuleSchema: z.ZodType<MatchRule> = z.lazy(() =>
  z.union([
    z.strictObject({ equals: text }),
    z.strictObject({ starts_with: text }),
    z.strictObject({ ends_with: text }),
    z.strictObject({ contains: text }),
    z.strictObject({ or: z.array(orgMatchRuleSchema).min(1).max(50) }),
    z.strictObject({ and: z.array(orgMatchRuleSchema).min(1).max(50) }),
  ]),
);

const regexCache = new Map<string, RegExp>();

function regex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(source);
    regexCache.set(source, re);
  }
  return re;
}

/** Whether `model` (already lower-cased and trimmed) satisfies `rule`. */
export function matchesModel(rule: MatchRule, model: string): boolean {
  if ('or' in rule) return rule.or.some((r) => matchesModel(r, model));
  if ('and' in rule) return rule.and.every((r) => matchesModel(r, model));
  if ('equals' in rule) return model === rule.equals.toLowerCase();
  if ('starts_with' in rule) return model.startsWith(rule.starts_with.toLowerCase());
  if ('ends_with' in rule) return model.endsWith(rule.ends_with.toLowerCase());
  if ('contains' in rule) return model.includes(rule.contains.toLowerCase());
  return regex(rule.regex).test(model);
}

export function normalizeModel(model: string): string {
  return model.trim().toLowerCase();
}

/**
 * The row that prices `name` (normalized): of the rows in preference order, the first of the named provider
 * that matches, else the first that matches.
 */
export function selectPrice<R extends { match: MatchRule; provider: string }>(
  rows: readonly R[],
  name: string,
  provider?: string,
): R | null {
  let first: R | null = null;
  for (const row of rows) {
    if (!matchesModel(row.match, name)) continue;
    if (!provider || row.provider.toLowerCase() === provider) return row;
    first ??= row;
  }
  return first;
}
