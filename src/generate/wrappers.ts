// Behaviour around a Generator: one flight per key, a cache in front, bounded and fair generations at once.
import { Code, RegistryError } from "../core/errors.js";
import type { GenerationJob, GenerationResult, Generator, Wrapper } from "./generator.js";

/**
 * One generation per `job.key` at a time (DESIGN invariant 4): callers arriving while it runs get the very same
 * promise. The flight is forgotten when it settles, so a failure is not remembered and the next call retries.
 * A caller's signal only stops that caller's wait: the flight itself runs on for the others.
 */
export function withSingleflight<R>(): Wrapper<R> {
  return (inner) => {
    const flights = new Map<string, Promise<R>>();
    return {
      generate(job, signal) {
        let flight = flights.get(job.key);
        if (!flight) {
          const started = inner.generate(job);
          flight = started;
          flights.set(job.key, started);
          const forget = () => {
            if (flights.get(job.key) === started) flights.delete(job.key);
          };
          // Every caller may have gone; the rejection is theirs to see, not an unhandled one.
          started.then(forget, forget);
        }
        return signal ? untilAborted(flight, signal) : flight;
      },
    };
  };
}

export interface FairSchedulingOptions {
  /** Generations at once, in all. */
  slots: number;
  /** Generations at once for one owner; below `slots`, so a busy owner always leaves room for the others. */
  perOwner: number;
}

/**
 * At most `slots` generations run at once, and at most `perOwner` of one template owner (DESIGN invariant 10):
 * one owner's slow plugins cannot hold every slot. When a slot frees, the waiting owner with the fewest running
 * generations goes next, ties to the one served longest ago; one owner's own jobs keep their arrival order.
 * A waiter whose signal aborts leaves the queue.
 */
export function withFairScheduling<R>(opts: FairSchedulingOptions): Wrapper<R> {
  const { slots, perOwner } = opts;
  for (const [name, n] of Object.entries(opts)) {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`fair scheduling: ${name} must be a positive integer, got ${n}`);
  }
  return (inner) => {
    let running = 0;
    const runningBy = new Map<string, number>();
    // Insertion order is the round-robin order: an owner moves to the end each time it is served.
    const waiting = new Map<string, (() => void)[]>();
    const mayRun = (owner: string) => running < slots && (runningBy.get(owner) ?? 0) < perOwner;
    const start = (owner: string) => {
      running++;
      runningBy.set(owner, (runningBy.get(owner) ?? 0) + 1);
    };
    const dispatch = () => {
      while (running < slots) {
        let next: string | undefined;
        for (const owner of waiting.keys()) {
          if (!mayRun(owner)) continue;
          if (next === undefined || (runningBy.get(owner) ?? 0) < (runningBy.get(next) ?? 0)) next = owner;
        }
        if (next === undefined) return;
        const queue = waiting.get(next) ?? [];
        const grant = queue.shift();
        waiting.delete(next);
        if (queue.length) waiting.set(next, queue);
        grant?.();
      }
    };
    const release = (owner: string) => {
      running--;
      const left = (runningBy.get(owner) ?? 1) - 1;
      if (left) runningBy.set(owner, left);
      else runningBy.delete(owner);
      dispatch();
    };
    const acquire = (owner: string, signal: AbortSignal | undefined) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(aborted(signal));
        if (mayRun(owner) && !waiting.has(owner)) {
          start(owner);
          return resolve();
        }
        const onAbort = () => {
          const queue = waiting.get(owner) ?? [];
          const i = queue.indexOf(grant);
          if (i >= 0) queue.splice(i, 1);
          if (!queue.length) waiting.delete(owner);
          reject(aborted(signal));
        };
        const grant = () => {
          signal?.removeEventListener("abort", onAbort);
          start(owner);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        const queue = waiting.get(owner);
        if (queue) queue.push(grant);
        else waiting.set(owner, [grant]);
      });
    return {
      async generate(job, signal) {
        await acquire(job.owner, signal);
        try {
          return await inner.generate(job, signal);
        } finally {
          release(job.owner);
        }
      },
    };
  };
}

/** What withCache needs; the server backs it with the MetadataStore (records) and the BlobStore (bytes). */
export interface GenerationCache<R> {
  get(key: string): Promise<R | undefined>;
  /** Stores a fresh result (blobs first, metadata last) and returns what later `get`s will return. */
  put(key: string, result: GenerationResult): Promise<R>;
}

/**
 * Answers from the cache when it can; otherwise generates and stores. Only successful results reach `put`
 * (DESIGN invariant 5). It changes the result type from GenerationResult to the cache's R, so it sits between
 * wrappers of the engine's results (`withFairScheduling`) and wrappers of the cache's (`withSingleflight`).
 */
export function withCache<R>(cache: GenerationCache<R>): (g: Generator<GenerationResult>) => Generator<R> {
  return (inner) => ({
    async generate(job: GenerationJob, signal?: AbortSignal) {
      const hit = await cache.get(job.key);
      if (hit !== undefined) return hit;
      const fresh = await inner.generate(job, signal);
      return cache.put(job.key, fresh);
    },
  });
}

function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) return Promise.reject(aborted(signal));
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function aborted(signal: AbortSignal | undefined): RegistryError {
  const reason: unknown = signal?.reason;
  return new RegistryError(Code.Unavailable, "generation was cancelled", {}, { cause: reason });
}

export interface GenerationLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** One log line per real generation: how long it took and how big it was, or why it failed. */
export function withLogging(log: GenerationLog): Wrapper<GenerationResult> {
  return (inner) => ({
    async generate(job, signal) {
      const started = performance.now();
      try {
        const result = await inner.generate(job, signal);
        const ms = Math.round(performance.now() - started);
        log.info({ key: job.key, ms, bytes: result.size, files: result.fileCount }, "generation finished");
        return result;
      } catch (err) {
        const ms = Math.round(performance.now() - started);
        const e = RegistryError.from(err);
        log.warn(
          { key: job.key, ms, code: e.code, plugin: e.fields.plugin, error: e.message },
          "generation failed",
        );
        throw err;
      }
    },
  });
}
