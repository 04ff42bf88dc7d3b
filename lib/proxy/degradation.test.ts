import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { UnmeteredGuard, type UnmeteredEntry } from './degradation.ts';

describe('UnmeteredGuard', () => {
  const entry = (price: string | null): UnmeteredEntry => ({
    at: '2026-01-01T00:00:00.000Z',
    requestId: 'r1',
    orgId: 'o1',
    apiKeyId: 'k1',
    user: 'ada',
    endpoint: 'chat.completions',
    usage: { model: 'm', input_tokens: 1, output_tokens: 2 },
    price,
    reason: 'test',
  });

  it('sets the most a request can cost aside within the cap, counts its price instead, journals it and starts over after recovery', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'credits-journal-')), 'nested', 'unmetered.jsonl');
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const guard = new UnmeteredGuard(file, log);
    expect(guard.take('o1', 'ada', 80n, 100n)).toBe(true);
    expect(guard.take('o1', 'ada', 30n, 100n)).toBe(false); // 80 set aside: 30 more would pass the cap
    await guard.record(entry('60'), 80n); // it cost 60: 20 comes back
    expect(guard.take('o1', 'ada', 40n, 100n)).toBe(true);
    guard.giveBack('o1', 'ada', 40n); // the upstream failed: it cost nothing
    expect(guard.take('o1', 'ada', 41n, 100n)).toBe(false);
    expect(guard.take('o1', 'ada', 40n, 100n)).toBe(true);
    await guard.record(entry('40'), 40n);
    expect(guard.take('o1', 'ada', 1n, 100n)).toBe(false);
    expect(guard.take('o1', 'bob', 100n, 100n)).toBe(true);
    expect(guard.take('o1', 'eve', 1n, 0n)).toBe(false);
    const journal = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(journal).toEqual([entry('60'), entry('40')]);
    expect(JSON.parse(lines[0])).toMatchObject({ event: 'proxy.unmetered_request', requestId: 'r1', price: '60' });
    guard.recovered('o1');
    expect(guard.take('o1', 'ada', 100n, 100n)).toBe(true);
  });
});
