/**
 * Query strings of GET routes, parsed with a zod schema like bodies are (see readJson): 422 validation_failed
 * with the issues when they do not fit. A parameter given twice counts as its first value.
 */
import type { z } from 'zod';
import { AppError } from './errors.ts';

export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  const params: Record<string, string> = {};
  for (const [name, value] of new URL(req.url).searchParams) if (!(name in params)) params[name] = value;
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'Query parameters are invalid', {
      issues: parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        code: issue.code,
        message: issue.message,
      })),
    });
  }
  return parsed.data;
}
