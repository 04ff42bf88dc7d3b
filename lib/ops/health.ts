/** Liveness and readiness: the app answers and its database does, within a bounded time. */
import { getDb, type Db } from '../db/client.ts';
import packageJson from '../../package.json' with { type: 'json' };

export type Health =
  | { status: 'ok'; database: 'ok'; version: string }
  | { status: 'error'; database: 'unreachable'; reason: string; version: string };

export async function checkHealth(db: Db = getDb(), timeoutMs = 2_000): Promise<Health> {
  const version = packageJson.version;
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([db.$queryRaw`SELECT 1`, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ok', database: 'ok', version };
  } catch (err) {
    return { status: 'error', database: 'unreachable', reason: describeError(err), version };
  }
}

/** A one-line reason: connection failures arrive as errors with an empty message (or an AggregateError). */
function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string; name?: string; errors?: unknown[]; cause?: unknown };
  const first = (e.message ?? '').split('\n')[0].trim();
  if (first) return first;
  if (e.errors?.length) return describeError(e.errors[0]);
  if (e.cause) return describeError(e.cause);
  return e.code ?? e.name ?? 'database error';
}
