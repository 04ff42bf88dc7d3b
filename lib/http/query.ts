/**
 * Query strings of GET routes, parsed with a zod schema like bodies are (see readJson): 422 validation_failed
 * with the issues when they do not fit. A parameter given twice counts as its first value.
 */
import type { z } from 'zod';
import { validationError } from './errors.ts';

export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  const params: Record<string, string> = {};
  for (const [name, value] of new URL(req.url).searchParams) if (!(name in params)) params[name] = value;
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    throw validationError('Query parameters are invalid', parsed.error);
  }
  return parsed.data;
}
