import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type PendingSettlement, SettlementJournal } from './settlement-journal.ts';
import { pendingSettlement } from './testing/journal-entries.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function journal(compactBytes: number): SettlementJournal {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'settlements-'));
  dirs.push(dir);
  return new SettlementJournal(path.join(dir, 'journal'), compactBytes);
}

const entry = pendingSettlement;
const lines = (j: SettlementJournal) => readFileSync(j.file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as PendingSettlement);

describe('SettlementJournal', () => {
  it('has every appended line in its file once append returns', () => {
    const j = journal(1 << 20);
    for (const n of [1, 2, 3]) j.append(entry(n));
    expect(lines(j).map((e) => e.reservationId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('empties its file once nothing is pending past its size, and not while a line is', () => {
    const j = journal(300);
    const first = j.append(entry(1));
    const second = j.append(entry(2));
    first.resolve(true);
    first.resolve(true);
    expect(lines(j)).toHaveLength(2);
    second.resolve(true);
    expect(lines(j)).toHaveLength(0);
    j.append(entry(3));
    expect(lines(j).map((e) => e.reservationId)).toEqual(['r3']);
  });

  it('keeps its file for reconcile once a settlement failed other than by a refusal', () => {
    const j = journal(10);
    j.append(entry(1)).resolve(false);
    j.append(entry(2)).resolve(true);
    const all = readdirSync(j.dir).flatMap((f) => readFileSync(path.join(j.dir, f), 'utf8').split('\n').filter(Boolean));
    expect(all.map((l) => (JSON.parse(l) as PendingSettlement).reservationId)).toEqual(['r1']);
  });

  it('goes on in a new file while its grown file has lines pending, and removes the old one once they are resolved', () => {
    const j = journal(10);
    const held = j.append(entry(1));
    const first = j.file;
    const next = j.append(entry(2));
    expect(j.file).not.toBe(first);
    expect(lines(j).map((e) => e.reservationId)).toEqual(['r2']);
    next.resolve(true);
    expect(existsSync(first)).toBe(true);
    held.resolve(true);
    expect(existsSync(first)).toBe(false);
    expect(readdirSync(j.dir)).toEqual([path.basename(j.file)]);
  });
});
