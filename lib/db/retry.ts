/**
 * Retrying a statement that PostgreSQL aborted for a transient reason: a deadlock (two transactions took rows
 * in opposite orders, which the usage rollups of pool-funded charges can do) or a serialization failure. The
 * ledger's calls and the proxy's rate-limit calls are each one statement and so one transaction: when it is
 * aborted nothing of it stays, so running it again is safe and gives the answer it would have given.
 */
const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure

export async function withTransientRetry<T>(run: () => Promise<T>, maxRetries = 5): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= maxRetries) throw err;
      await new Promise((r) => setTimeout(r, 2 ** attempt + Math.random() * 5));
    }
  }
}
