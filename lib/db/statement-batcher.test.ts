import { describe, expect, it } from 'vitest';
import { StatementBatcher } from './statement-batcher.ts';

function recording(failWhen: (inputs: number[]) => boolean = () => false) {
  const statements: number[][] = [];
  const run = async (inputs: number[]) => {
    statements.push(inputs);
    await new Promise((r) => setImmediate(r));
    if (failWhen(inputs)) throw new Error('refused');
    return inputs.map((n) => n * 10);
  };
  const batcher = new StatementBatcher<number, number>(async (n) => (await run([n]))[0], run);
  return { statements, batcher };
}

describe('StatementBatcher', () => {
  it('runs a lone call at once and the calls that waited for it together', async () => {
    const { statements, batcher } = recording();
    const results = await Promise.all([1, 2, 3, 4].map((n) => batcher.submit(n)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(statements).toEqual([[1], [2, 3, 4]]);
  });

  it('runs each call of a failed batch alone, so only the failing one fails', async () => {
    const { statements, batcher } = recording((inputs) => inputs.includes(3));
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([10, 20, 'failed', 40]);
    expect(statements).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });
});
