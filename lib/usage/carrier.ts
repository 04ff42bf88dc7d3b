/**
 * How a request's facts reach its usage record: metering puts them under the reserved key "$usage" of the
 * ledger operation's metadata, and the database triggers of the pricing migration turn a committed
 * reservation or a new usage event into one usage record in the same transaction. Callers' metadata may not
 * use the key, and answers show metadata without it.
 */
import { z } from 'zod';

export const USAGE_KEY = '$usage';

/**
 * What a backend may tell of its call when it commits, releases or records it through the API; shown on the
 * call's usage record.
 */
export const callFactsFields = {
  request_id: z.string().trim().min(1).max(200).optional(),
  latency_ms: z.number().int().min(0).max(86_400_000).optional(),
  status: z.enum(['ok', 'error', 'cancelled']).optional(),
};

/** The call facts of an API input (those it gives). */
export function callFactsOf(input: Pick<RequestInfo, 'request_id' | 'latency_ms' | 'status'>): RequestInfo {
  return {
    ...(input.request_id !== undefined && { request_id: input.request_id }),
    ...(input.latency_ms !== undefined && { latency_ms: input.latency_ms }),
    ...(input.status !== undefined && { status: input.status }),
  };
}

/** What the caller of a metered request knows beyond its cost (the proxy, for instance). */
export const requestInfoSchema = z.object({
  api_key_id: z.uuid().optional(),
  ...callFactsFields,
  provider: z.string().trim().min(1).max(100).optional(),
});

export type RequestInfo = z.infer<typeof requestInfoSchema>;

export type UsageFacts = RequestInfo & {
  model?: string;
  input_tokens?: number;
  output_tokens?: number;
  cached_input_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
  price_version_id?: string;
  org_price_version_id?: string | null;
};

/** Free-form metadata of callers, without the reserved key. */
export const callerMetadataSchema = z
  .record(z.string(), z.unknown())
  .refine((m) => !(USAGE_KEY in m), { message: `the key ${USAGE_KEY} is reserved` })
  .optional();

/** `metadata` with the facts under the reserved key (nothing added when there are none). */
export function withUsageFacts(
  metadata: Record<string, unknown> | undefined,
  facts: UsageFacts,
): Record<string, unknown> | undefined {
  const present = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined && v !== null));
  if (Object.keys(present).length === 0) return metadata;
  return { ...metadata, [USAGE_KEY]: present };
}

/** `value` when it is a JSON object, else null. */
function objectOf(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The facts stored under the reserved key of `metadata`, if any. */
export function usageFactsOf(metadata: unknown): Record<string, unknown> | null {
  return objectOf(objectOf(metadata)?.[USAGE_KEY]);
}

/** Metadata as callers gave it: the reserved key removed. */
export function withoutUsageFacts(metadata: unknown): Record<string, unknown> {
  const object = objectOf(metadata);
  if (!object) return {};
  const { [USAGE_KEY]: _facts, ...rest } = object;
  return rest;
}
