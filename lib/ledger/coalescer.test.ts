import { describe, expect, it } from 'vitest';
import type { LedgerOp, LedgerResult, SqlRunner } from './apply.ts';
import { LedgerCoalescer } from './coalescer.ts';

/** A database stand-in: each statement waits until the test lets it finish, and answers every op with its id. */
function fakeDatabase(fail?: (ops: LedgerOp[]) => boolean) {
  const calls: { ops: LedgerOp[]; finish: () => void }[] = [];
  const run: SqlRunner = (_sql, params) => {
    const ops = JSON.parse(params[1] as string) as LedgerOp[];
    return new Promise((resolve, reject) => {
      calls.push({
        ops,
        finish: () => {
          if (fail?.(ops)) reject(new Error('statement failed'));
          else resolve([{ results: ops.map((op) => ({ ok: true, http_status: 200, id: (op as { id: string }).id }) as LedgerResult) }]);
        },
      });
    });
  };
  return { run, calls };
}

const reserve = (id: string): LedgerOp => ({ type: 'reserve', id, account_id: 'a', membership_id: 'm', amount: '1', ttl_seconds: 60 }) as LedgerOp;
const tick = () => new Promise((r) => setImmediate(r));

describe('LedgerCoalescer', () => {
  it('sends what queued meanwhile as the next batch before answering the batch that returned', async () => {
    const db = fakeDatabase();
    const coalescer = new LedgerCoalescer(db.run);
    const answered: string[] = [];
    const sentWhenAnswered: number[] = [];
    const submit = (id: string) =>
      coalescer.submit('org', reserve(id), 'a').then((r) => {
        answered.push((r as unknown as { id: string }).id);
        sentWhenAnswered.push(db.calls.length);
      });
    const first = submit('r1');
    await tick();
    const rest = ['r2', 'r3', 'r4'].map(submit);
    expect(db.calls.map((c) => c.ops.length)).toEqual([1]);

    db.calls[0].finish();
    await tick();
    // The three that waited went to the database as one batch, and only then was r1 answered.
    expect(db.calls.map((c) => c.ops.length)).toEqual([1, 3]);
    await first;
    expect(answered).toEqual(['r1']);
    expect(sentWhenAnswered).toEqual([2]);

    db.calls[1].finish();
    await Promise.all(rest);
    expect(answered).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('runs the operations of a failed batch one by one, so only the one that fails is refused', async () => {
    const db = fakeDatabase((ops) => ops.some((op) => (op as { id: string }).id === 'bad'));
    const coalescer = new LedgerCoalescer(db.run);
    const first = coalescer.submit('org', reserve('r0'), 'a');
    await tick();
    const batch = ['r1', 'bad', 'r2'].map((id) => coalescer.submit('org', reserve(id), 'a').then(
      (r) => (r as unknown as { id: string }).id,
      (e: Error) => e.message,
    ));
    db.calls[0].finish();
    await first;
    await tick();
    db.calls[1].finish();
    // Each op alone, then answered.
    for (let i = 0; i < 20 && db.calls.length < 5; i++) await tick();
    expect(db.calls.slice(2).map((c) => c.ops.map((op) => (op as { id: string }).id))).toEqual([['r1'], ['bad'], ['r2']]);
    db.calls.slice(2).forEach((c) => c.finish());
    expect(await Promise.all(batch)).toEqual(['r1', 'statement failed', 'r2']);
  });
});
