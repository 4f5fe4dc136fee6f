// The mutable part of one caller's resolution (which commit a label names, which version is a template's newest),
// remembered for a moment. What never changes (a commit by id or sequence, a numbered template version, an
// artifact record) is not kept here: the metadata cache keeps it as immutable.
//
// Correctness rests on the same two rules as the metadata cache: an entry read before any write that may move a
// label, a head, a template's versions, a visibility or a membership (the invalidation epoch, here and in sibling
// workers) is a miss; and no entry outlives the mutable-metadata TTL, which bounds how late another node's write
// shows. Only successes are kept: a NotFound may turn into a thing a moment later.
import { createCache } from "../core/cache.js";
import type { Principal } from "./auth.js";

export interface ResolutionCache {
  /** `load`'s result for this caller and key, reused within the epoch and the TTL. */
  get<T extends object>(principal: Principal, key: string, load: () => Promise<T>): Promise<T>;
}

export interface ResolutionCacheOptions {
  /** The epoch of mutable metadata (src/storage/meta/invalidation.ts). */
  epoch(): number;
  /** Longest reuse of one resolution; 0 disables the cache. */
  ttlMs: number;
  /** Most entries kept (callers × keys). */
  max?: number;
}

/** Access depends on who asks: the user (and whether an admin), never on the token or the request. */
const callerOf = (p: Principal) => (p.user ? `${p.user.id}${p.user.isAdmin ? "!" : ""}` : "");

export function createResolutionCache(opts: ResolutionCacheOptions): ResolutionCache {
  if (opts.ttlMs <= 0) return { get: (_principal, _key, load) => load() };
  // A write during a load may have moved what it read: the cache keeps nothing then (core/cache.ts).
  const entries = createCache<object>({
    bound: { maxEntries: opts.max ?? 20_000 },
    ttlMs: opts.ttlMs,
    epoch: opts.epoch,
  });
  return {
    get<T extends object>(principal: Principal, key: string, load: () => Promise<T>): Promise<T> {
      // One key holds one kind of result: what `load` returned for it.
      return entries.load(`${callerOf(principal)}\0${key}`, load) as Promise<T>;
    },
  };
}
