// The one in-memory cache every cache of the server is built from: bounded always, an optional TTL, an optional
// invalidation epoch, and loads shared by concurrent callers. No I/O and no timers: the clock is a function, so
// tests (and callers) decide what time it is.
//
//   const cache = createCache<Module | undefined>({
//     bound: { maxEntries: 10_000 },          // or { maxSize: bytes, sizeOf: (value, key) => n, maxEntrySize? }
//     ttlMs: 2000,                            // absent: kept until evicted or invalidated; 0: nothing is kept
//     epoch: invalidation.epoch,              // absent: entries never go stale by epoch
//   });
//   await cache.load(key, () => store.getModule(owner, name));   // one load per key and epoch, however many ask
//   await cache.load(key, read, (r): r is Buffer => Buffer.isBuffer(r)); // only what `keep` accepts is kept
//   cache.get(key); cache.set(key, value, { epoch, ttlMs }); cache.delete(key); cache.clear(); cache.keys();
//
// The rules, the same for every cache:
// - Bounded: by entries or by a size the caller computes; the least recently used entry goes first (lru-cache). A
//   bound of 0 keeps nothing.
// - TTL: an entry lives at most `ttlMs` from when it was kept (`set` may shorten it, say to a token's expiry).
// - Epoch: an entry is kept with the epoch its value was read in and is a miss in any later epoch. A load that
//   started before the epoch moved keeps nothing, and a caller in the new epoch never joins it: it could return
//   what a write has since moved. `set` with `{ epoch }` keeps nothing when that epoch is no longer current.
// - Shared loads: concurrent `load`s of one key in one epoch run the loader once and share its promise.
// - Failures are never kept: a rejected load is forgotten, and the next `load` runs the loader again.
import { LRUCache } from "lru-cache";

/** How many entries a cache may hold, or how much of a size the caller defines (bytes, records). */
export type CacheBound<V> =
  | { maxEntries: number }
  | {
      maxSize: number;
      /** The size of one entry; counted at least 1. */
      sizeOf(value: V, key: string): number;
      /** Larger entries are never kept (default: `maxSize`). */
      maxEntrySize?: number;
    };

export interface CacheOptions<V> {
  bound: CacheBound<V>;
  /** Longest life of an entry, from when it is kept. Absent: until evicted or invalidated. 0 keeps nothing. */
  ttlMs?: number;
  /** The invalidation epoch (storage/meta/invalidation.ts): an entry of an older epoch is a miss. */
  epoch?: () => number;
  /** Milliseconds; Date.now by default. */
  now?: () => number;
}

export interface SetOptions {
  /** The epoch the value was read in: a value read before the current epoch is not kept. Default: the current one. */
  epoch?: number;
  /** A shorter life than the cache's TTL for this entry (never longer); ≤ 0 keeps nothing. */
  ttlMs?: number;
}

export interface Cache<V> {
  /** The kept value, or undefined on a miss (a stale entry is dropped). Use `load` to cache undefined itself. */
  get(key: string): V | undefined;
  /** Whether a fresh value is kept. */
  has(key: string): boolean;
  /** Keeps `value` unless the bound, the TTL or the epoch refuses it; says whether it was kept. */
  set(key: string, value: V, opts?: SetOptions): boolean;
  /**
   * The kept value, else the result of `loader`, run once for all concurrent callers of this key in this epoch and
   * kept if no write moved the epoch meanwhile (and `keep` accepts it). A failure is passed on, never kept.
   */
  load(key: string, loader: () => Promise<V>): Promise<V>;
  load<R>(key: string, loader: () => Promise<R>, keep: (result: R) => result is R & V): Promise<R | V>;
  delete(key: string): void;
  clear(): void;
  /** Every kept key, fresh or not yet found stale. */
  keys(): IterableIterator<string>;
}

interface Entry<V> {
  value: V;
  epoch: number;
  expiresAt: number;
}

interface Flight {
  epoch: number;
  promise: Promise<unknown>;
}

const noEpoch = () => 0;

function lruOf<V>(bound: CacheBound<V>): LRUCache<string, Entry<V>> | undefined {
  if ("maxEntries" in bound) {
    return bound.maxEntries > 0 ? new LRUCache<string, Entry<V>>({ max: bound.maxEntries }) : undefined;
  }
  if (bound.maxSize <= 0) return undefined;
  const { sizeOf } = bound;
  return new LRUCache<string, Entry<V>>({
    maxSize: bound.maxSize,
    maxEntrySize: Math.min(bound.maxEntrySize ?? bound.maxSize, bound.maxSize),
    sizeCalculation: (entry, key) => Math.max(1, Math.ceil(sizeOf(entry.value, key))),
  });
}

export function createCache<V>(opts: CacheOptions<V>): Cache<V> {
  const now = opts.now ?? Date.now;
  const epoch = opts.epoch ?? noEpoch;
  const ttl = opts.ttlMs ?? Number.POSITIVE_INFINITY;
  const entries = ttl > 0 ? lruOf(opts.bound) : undefined;
  const flights = new Map<string, Flight>();

  /** The fresh entry of `key`, dropping a stale one. */
  const fresh = (key: string): Entry<V> | undefined => {
    const entry = entries?.get(key);
    if (entry === undefined) return undefined;
    // Entries without a TTL skip the clock: the hot path of immutable caches asks for no time.
    if (
      entry.epoch !== epoch() ||
      (entry.expiresAt !== Number.POSITIVE_INFINITY && now() >= entry.expiresAt)
    ) {
      entries?.delete(key);
      return undefined;
    }
    return entry;
  };

  const set = (key: string, value: V, o: SetOptions = {}): boolean => {
    if (!entries) return false;
    const current = epoch();
    if (o.epoch !== undefined && o.epoch !== current) return false;
    const life = o.ttlMs === undefined ? ttl : Math.min(o.ttlMs, ttl);
    if (life <= 0) return false;
    entries.set(key, { value, epoch: current, expiresAt: now() + life });
    return entries.has(key);
  };

  function load<R>(key: string, loader: () => Promise<R>, keep?: (result: R) => boolean): Promise<R | V> {
    const hit = fresh(key);
    if (hit) return Promise.resolve(hit.value);
    const started = epoch();
    const flight = flights.get(key);
    if (flight && flight.epoch === started) return flight.promise as Promise<R | V>;
    const promise = loader().then((result) => {
      // Kept under the epoch the load started in: a write meanwhile makes `set` refuse it.
      if (keep === undefined || keep(result)) set(key, result as unknown as V, { epoch: started });
      return result;
    });
    flights.set(key, { epoch: started, promise });
    const forget = () => {
      if (flights.get(key)?.promise === promise) flights.delete(key);
    };
    promise.then(forget, forget);
    return promise;
  }

  return {
    get: (key) => fresh(key)?.value,
    has: (key) => fresh(key) !== undefined,
    set,
    load: load as Cache<V>["load"],
    delete: (key) => {
      entries?.delete(key);
    },
    clear: () => entries?.clear(),
    keys: () => entries?.keys() ?? [].values(),
  };
}
