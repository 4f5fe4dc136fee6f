// A small in-process cache with a time to live that also shares one load among concurrent callers.

export interface TtlCache<V> {
  /** The cached value for `key`, or `load()`'s (shared by every caller until it settles; failures are not kept). */
  get(key: string, load: () => Promise<V>): Promise<V>;
  delete(key: string): void;
}

/**
 * `ttlMs` 0 disables caching but keeps the sharing of in-flight loads. At most `maxEntries` are kept; the oldest
 * go first (a Map iterates in insertion order).
 */
export function createTtlCache<V>(
  ttlMs: number,
  maxEntries = 10_000,
  now: () => number = Date.now,
): TtlCache<V> {
  const entries = new Map<string, { value: Promise<V>; expires: number; settled: boolean }>();
  return {
    get(key, load) {
      const t = now();
      const hit = entries.get(key);
      if (hit && (!hit.settled || hit.expires > t)) return hit.value;
      if (hit) entries.delete(key);
      const entry = { value: load(), expires: Number.POSITIVE_INFINITY, settled: false };
      entries.set(key, entry);
      entry.value.then(
        () => {
          entry.settled = true;
          entry.expires = now() + ttlMs;
          if (ttlMs <= 0 && entries.get(key) === entry) entries.delete(key);
        },
        () => {
          if (entries.get(key) === entry) entries.delete(key);
        },
      );
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return entry.value;
    },
    delete(key) {
      entries.delete(key);
    },
  };
}
