import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyMeter } from './meter.ts';
import { reconcileSettlementDir, writerRunning } from './settlement-reconcile.ts';
import { pendingSettlement } from './testing/journal-entries.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reconcile-'));
  dirs.push(dir);
  return dir;
}

const entry = pendingSettlement;

/** A meter that records what it is asked to settle. */
function recordingMeter(): ProxyMeter & { settled: string[] } {
  const settled: string[] = [];
  return {
    settled,
    hold: () => Promise.reject(new Error('not used')),
    cancel: () => Promise.reject(new Error('not used')),
    settle: async (_org, reservationId, _usage, _info, quote) => {
      settled.push(reservationId);
      return { charged: quote?.charged ?? 0n, remaining: 0n };
    },
  };
}

/** A process that started now, its pid and whether it still runs. */
async function childProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
}

describe('writerRunning', () => {
  it('counts a journal of this process as running, and one an earlier process with the same pid left as stopped', () => {
    const started = Math.floor(performance.timeOrigin);
    expect(writerRunning(`/j/${process.pid}-${Date.now()}.jsonl`)).toBe(true);
    expect(writerRunning(`/j/${process.pid}-${started}-2.jsonl`)).toBe(true);
    // A restarted container's server usually gets the pid its previous run had.
    expect(writerRunning(`/j/${process.pid}-${started - 60_000}.jsonl`)).toBe(false);
  });

  it('counts another live process as the writer only of journals created after it started', async () => {
    const child = await childProcess();
    try {
      expect(writerRunning(`/j/${child.pid}-${Date.now()}.jsonl`)).toBe(true);
      // The same pid an hour ago was another process.
      expect(writerRunning(`/j/${child.pid}-${Date.now() - 3_600_000}.jsonl`)).toBe(false);
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(writerRunning(`/j/${child.pid}-${Date.now()}.jsonl`)).toBe(false);
  });
});

describe('reconcileSettlementDir at start (stopped processes only)', () => {
  it('settles and removes what an earlier process with this pid left, and leaves this process its own journal', async () => {
    const dir = scratch();
    const earlier = path.join(dir, `${process.pid}-${Math.floor(performance.timeOrigin) - 60_000}.jsonl`);
    const own = path.join(dir, `${process.pid}-${Date.now()}.jsonl`);
    writeFileSync(earlier, `${JSON.stringify(entry(1))}\n${JSON.stringify(entry(2))}\n`);
    writeFileSync(own, `${JSON.stringify(entry(3))}\n`);
    const meter = recordingMeter();

    const report = await reconcileSettlementDir(meter, dir, { onlyStopped: true });

    expect(report).toMatchObject({ settled: 2, refused: [], failed: [] });
    expect(meter.settled).toEqual(['r1', 'r2']);
    expect(existsSync(earlier)).toBe(false);
    expect(readFileSync(own, 'utf8')).toContain('"r3"');
  });
});
