import { afterEach, describe, expect, it, vi } from 'vitest';
import { RefreshingMemory } from './refreshing-memory.ts';

afterEach(() => vi.useRealTimers());

describe('RefreshingMemory', () => {
  it('shares one load among concurrent reads, answers a stale value while one load replaces it, and waits past that', async () => {
    vi.useFakeTimers();
    const memory = new RefreshingMemory<string, number>(`test-${Math.random()}`, 1000, 3000);
    let loads = 0;
    let release: (n: number) => void = () => {};
    const load = () => {
      loads += 1;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = [memory.get('k', load), memory.get('k', load)];
    release(1);
    expect(await Promise.all(first)).toEqual([1, 1]);
    expect(loads).toBe(1);

    vi.advanceTimersByTime(1500);
    // Past fresh, within stale: the old value at once, and one load for everyone.
    expect(await memory.get('k', load)).toBe(1);
    expect(await memory.get('k', load)).toBe(1);
    expect(loads).toBe(2);
    release(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(await memory.get('k', load)).toBe(2);

    vi.advanceTimersByTime(5000);
    const waited = memory.get('k', load);
    release(3);
    expect(await waited).toBe(3);
    expect(loads).toBe(3);
  });

  it('forgets at once: a load under way when forgotten is not remembered', async () => {
    const memory = new RefreshingMemory<string, string>(`test-${Math.random()}`, 60_000);
    let release: (v: string) => void = () => {};
    const pending = memory.get('key', () => new Promise<string>((resolve) => (release = resolve)));
    memory.forget();
    release('before the change');
    expect(await pending).toBe('before the change');
    expect(await memory.get('key', async () => 'after the change')).toBe('after the change');
  });

  it('keeps the last value when a load fails, and rejects the read that waited for it', async () => {
    const memory = new RefreshingMemory<string, string>(`test-${Math.random()}`, 60_000);
    expect(await memory.get('key', async () => 'known')).toBe('known');
    await expect(memory.get('key', () => Promise.reject(new Error('unreachable')), 0)).rejects.toThrow('unreachable');
    expect(memory.last('key')).toBe('known');
  });
});
