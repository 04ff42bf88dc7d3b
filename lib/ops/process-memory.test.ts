import { describe, expect, it } from 'vitest';
import { processMap } from './process-memory.ts';

describe('processMap', () => {
  it('gives every caller in the process the same map for a name, and another map for another name', () => {
    const first = processMap<string, number>('test-shared');
    first.set('a', 1);
    expect(processMap<string, number>('test-shared').get('a')).toBe(1);
    expect(processMap('test-other').has('a')).toBe(false);
  });

  it('keeps the map where a second copy of the module finds it: under a registered symbol on globalThis', () => {
    const map = processMap<string, number>('test-global');
    const seenByAnotherCopy = (globalThis as unknown as Record<symbol, unknown>)[Symbol.for('credits.process-map.test-global')];
    expect(seenByAnotherCopy).toBe(map);
  });
});
