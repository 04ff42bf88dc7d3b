/**
 * Values read from the database and remembered a few seconds per key, for the hot paths (an API key, an org's
 * proxy settings): concurrent reads of a key share one load, and once a value is older than `freshMs` the
 * next read starts one load to replace it while the value is still answered, up to `staleMs`; past that a read
 * waits for the load. So a busy key never makes its requests wait for the database, and a change made
 * elsewhere is seen within `freshMs` plus one load. Forgetting (after a change made here) is at once: loads
 * under way then are not remembered. Memory, loads and forgetting are one per process (process-memory.ts).
 */
import { processMap } from './process-memory.ts';

/**
 * How long a rarely changing setting (an org's proxy settings and upstreams) may still be answered while a
 * load refreshes it: the first request after a quiet spell then does not wait for the database, and a change
 * made elsewhere is still seen within `freshMs` plus one load, as for any value here. Not for what prices a
 * request or lets a revoked key in.
 */
export const SETTINGS_STALE_MS = 10 * 60_000;

type Entry<V> = { value: V; at: number };
type Loads<K, V> = { generation: number; pending: Map<K, Promise<V>> };

export class RefreshingMemory<K, V> {
  private readonly values: Map<K, Entry<V>>;
  private readonly loads: Loads<K, V>;

  constructor(
    name: string,
    private readonly freshMs: number,
    private readonly staleMs = 2 * freshMs,
    private readonly maxEntries = 10_000,
  ) {
    this.values = processMap<K, Entry<V>>(name);
    const shared = processMap<string, Loads<K, V>>('refreshing-memory-loads');
    if (!shared.has(name)) shared.set(name, { generation: 0, pending: new Map() });
    this.loads = shared.get(name)!;
  }

  /**
   * The remembered value of `key`, or a loaded one (see the module header); with `maxAgeMs`, one no older than
   * that, else loaded. A failed load rejects.
   */
  async get(key: K, load: () => Promise<V>, maxAgeMs?: number): Promise<V> {
    const hit = this.values.get(key);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit && age < (maxAgeMs ?? this.freshMs)) return hit.value;
    const pending = this.load(key, load);
    if (hit && maxAgeMs === undefined && age < this.staleMs) {
      pending.catch(() => {});
      return hit.value;
    }
    return pending;
  }

  /** The value last remembered for `key`, however old (what to answer when the database is unreachable). */
  last(key: K): V | undefined {
    return this.values.get(key)?.value;
  }

  forget(key?: K): void {
    this.loads.generation += 1;
    if (key === undefined) {
      this.values.clear();
      this.loads.pending.clear();
    } else {
      this.values.delete(key);
      this.loads.pending.delete(key);
    }
  }

  private load(key: K, load: () => Promise<V>): Promise<V> {
    let pending = this.loads.pending.get(key);
    if (!pending) {
      const generation = this.loads.generation;
      pending = load()
        .then((value) => {
          if (this.loads.generation === generation) {
            if (this.values.size >= this.maxEntries) this.values.clear();
            this.values.set(key, { value, at: Date.now() });
          }
          return value;
        })
        .finally(() => {
          if (this.loads.pending.get(key) === pending) this.loads.pending.delete(key);
        });
      this.loads.pending.set(key, pending);
    }
    return pending;
  }
}
