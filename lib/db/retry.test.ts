import { describe, expect, it } from 'vitest';
import { withTransientRetry } from './retry.ts';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('withTransientRetry', () => {
  it('runs a statement again after a deadlock or a serialization failure, and answers what it then answers', async () => {
    const failures = [pgError('40P01'), pgError('40001')];
    let calls = 0;
    const result = await withTransientRetry(async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const unique = pgError('23505');
    await expect(
      withTransientRetry(async () => {
        calls++;
        throw unique;
      }),
    ).rejects.toBe(unique);
    expect(calls).toBe(1);
  });

  it('gives up after the retries allowed, with the last error', async () => {
    let calls = 0;
    await expect(
      withTransientRetry(async () => {
        calls++;
        throw pgError('40P01');
      }, 2),
    ).rejects.toMatchObject({ code: '40P01' });
    expect(calls).toBe(3);
  });
});
