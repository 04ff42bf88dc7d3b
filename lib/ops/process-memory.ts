/**
 * Maps that are one per process, however many times their module is loaded. The production server runs the
 * metering routes both in its own module graph and inside Next's bundle; caches of verified keys, members and
 * policies kept here are shared by both, so forgetting an entry (a revoked key) forgets it everywhere in the
 * process.
 */
const holder = globalThis as unknown as { [key: symbol]: Map<unknown, unknown> | undefined };

export function processMap<K, V>(name: string): Map<K, V> {
  const key = Symbol.for(`credits.process-map.${name}`);
  holder[key] ??= new Map();
  return holder[key] as Map<K, V>;
}
