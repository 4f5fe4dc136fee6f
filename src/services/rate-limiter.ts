// Fixed-window rate limiters (docs/tokens.md, "Rate limits"): per node in memory, or shared by every node through
// the metadata store. Both count requests per key (a token, or an anonymous caller's address) and window.
//
// Shared counting: windows are aligned to multiples of the window length, so every node means the same window by
// the same start. Each node adds its requests to the shared row of the key and window with one atomic upsert
// (RateCounterStore.addRateCount) and decides on the total it answers; to spare a database round trip per cached
// download, a node may admit up to `batch − 1` requests on its own estimate (the last total it read plus what it
// admitted since) before it adds them. Those are decided at once, without a promise, so a download answered from
// memory (http/hot-responses.ts) is counted without leaving its turn of the event loop. So with N nodes at most limit + (N − 1) × (batch − 1) requests are admitted in
// a window, where batch = max(1, ⌊limit × slackPercent / 100⌋): exact for small limits, at most `slackPercent`
// over per other node for large ones. Unadded counts also go to the store every flush interval.
import { Code, RegistryError } from "../core/errors.js";
import type { RateCounterStore } from "../storage/meta/metadata-store.js";
import type { Principal } from "./auth.js";

export type RateRole = "anonymous" | "user" | "bot" | "admin";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

export interface RateLimiter {
  /**
   * Counts one request of `key` under `limit` (0: unlimited, never refused). A decision the limiter can make on
   * what it holds is returned as such; only one that needs the store is a promise.
   */
  take(key: string, limit: number): RateDecision | undefined | Promise<RateDecision | undefined>;
  /** Adds what is still only counted here to the shared counts and stops the timer (shared limiters). */
  close?(): Promise<void>;
}

/** A limiter that decides at once (in memory). */
export interface LocalRateLimiter extends RateLimiter {
  take(key: string, limit: number): RateDecision | undefined;
}

export interface LocalRateLimiterOptions {
  windowMs: number;
  /** Callers counted at once; past it the oldest window's entries are dropped first (a bound on memory). */
  maxKeys?: number;
  now?: () => number;
}

const decide = (count: number, limit: number, resetMs: number): RateDecision => ({
  allowed: count <= limit,
  limit,
  remaining: Math.max(0, limit - count),
  resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
});

/** Fixed windows per key, in memory: O(1) per request, and the bound a window allows on one node is exact. */
export function createRateLimiter(opts: LocalRateLimiterOptions): LocalRateLimiter {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key, limit) {
      if (limit <= 0) return undefined;
      const at = now();
      let w = windows.get(key);
      if (!w || at - w.start >= opts.windowMs) {
        if (w) windows.delete(key);
        if (windows.size >= maxKeys) {
          // Map order is insertion order: the first entries have the oldest windows.
          for (const [k, old] of windows) {
            if (windows.size < maxKeys && at - old.start < opts.windowMs) break;
            windows.delete(k);
          }
        }
        w = { start: at, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      return decide(w.count, limit, w.start + opts.windowMs - at);
    },
  };
}

export interface SharedRateLimiterOptions extends LocalRateLimiterOptions {
  store: RateCounterStore;
  /** Requests a node admits on its own estimate before adding them, as a percentage of the limit (min 1). */
  slackPercent: number;
  /** How often counts not yet added are added anyway (and old windows pruned). */
  flushMs?: number;
  log: { warn(fields: object, message: string): void };
}

interface SharedWindow {
  start: number;
  /** The shared total this node last read. */
  known: number;
  /** Requests this node counted and has not added yet. */
  pending: number;
  /** Requests being added right now: counted in the estimate until the store's total includes them. */
  adding: number;
}

/** Counts in the metadata store, so limits hold across nodes (precision: the header comment). */
export function createSharedRateLimiter(opts: SharedRateLimiterOptions): RateLimiter {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, SharedWindow>();
  let warned = false;

  const add = async (key: string, w: SharedWindow): Promise<number | undefined> => {
    const n = w.pending;
    if (n === 0) return w.known;
    w.pending = 0;
    w.adding += n;
    try {
      const total = await opts.store.addRateCount(key, w.start, n);
      w.adding -= n;
      w.known = Math.max(w.known, total);
      return total;
    } catch (err) {
      // The database is away: count locally until it is back (a node alone keeps its own limit).
      w.adding -= n;
      w.known += n;
      if (!warned) opts.log.warn({ err }, "shared rate counts not written; counting on this node meanwhile");
      warned = true;
      return undefined;
    }
  };

  const flush = async (): Promise<void> => {
    const at = now();
    const current = Math.floor(at / opts.windowMs) * opts.windowMs;
    await Promise.all(
      [...windows].map(async ([key, w]) => {
        if (w.start < current) windows.delete(key);
        await add(key, w);
      }),
    );
    await opts.store.pruneRateCounts(current - opts.windowMs).catch(() => 0);
  };
  const timer = setInterval(() => void flush(), opts.flushMs ?? Math.min(1000, opts.windowMs / 10));
  timer.unref();

  const windowOf = (key: string, start: number): SharedWindow => {
    let w = windows.get(key);
    if (w && w.start === start) return w;
    if (w) void add(key, w);
    windows.delete(key);
    if (windows.size >= maxKeys) {
      const oldest = windows.keys().next().value;
      if (oldest !== undefined) windows.delete(oldest);
    }
    w = { start, known: 0, pending: 0, adding: 0 };
    windows.set(key, w);
    return w;
  };

  return {
    take(key, limit) {
      if (limit <= 0) return undefined;
      const at = now();
      const start = Math.floor(at / opts.windowMs) * opts.windowMs;
      const w = windowOf(key, start);
      const batch = Math.max(1, Math.floor((limit * opts.slackPercent) / 100));
      w.pending++;
      const resetMs = start + opts.windowMs - at;
      if (w.pending < batch) return decide(w.known + w.adding + w.pending, limit, resetMs);
      return add(key, w).then((total) => decide(total ?? w.known, limit, resetMs));
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** Who a request is counted as, and under which role. */
export function rateKeyOf(
  principal: Principal | undefined,
  address: string,
): { key: string; role: RateRole } {
  const user = principal?.user;
  if (!user || !principal?.tokenId) return { key: `addr:${address}`, role: "anonymous" };
  const role: RateRole = user.isAdmin ? "admin" : user.botOf ? "bot" : "user";
  return { key: `token:${principal.tokenId}`, role };
}

export interface GenerationBudget {
  /** Counts one cold generation a caller's request starts; throws TooManyRequests past its role's limit. */
  charge(principal: Principal): Promise<void>;
}

/** Cold generations per caller and window (rateLimits.generations), counted apart from requests. */
export function createGenerationBudget(opts: {
  limiter: RateLimiter;
  windowMs: number;
  generations: Record<RateRole, number>;
}): GenerationBudget | undefined {
  if (Object.values(opts.generations).every((n) => n <= 0)) return undefined;
  return {
    async charge(principal) {
      const { key, role } = rateKeyOf(principal, principal.client?.address ?? "");
      const decision = await opts.limiter.take(`generation:${key}`, opts.generations[role]);
      if (!decision || decision.allowed) return;
      const who = role === "anonymous" ? "an anonymous client address" : "one token";
      throw new RegistryError(
        Code.TooManyRequests,
        `too many generations: ${decision.limit} artifacts not generated before per ${Math.ceil(opts.windowMs / 1000)} s for ${who} (rateLimits.generations.${role}); already generated ones still download; retry in ${decision.resetSeconds} s`,
        { op: "generating", retryAfterSeconds: decision.resetSeconds },
      );
    },
  };
}
