// Behaviour around a Generator: one flight per key (per process, and by lease across nodes), a cache in front,
// bounded generations at once, scheduled fairly across owners.
import { Code, RegistryError } from "../core/errors.js";
import type { GenerationJob, GenerationResult, Generator, Wrapper } from "./generator.js";

/**
 * One generation per `job.key` at a time (DESIGN invariant 4): callers arriving while it runs get the very same
 * promise. The flight is forgotten when it settles, so a failure is not remembered and the next call retries.
 * A caller's signal only stops that caller's wait. When every caller of a flight has given up (each passed a signal
 * and each aborted), the flight's own signal aborts: a generation still waiting for a slot is then never started,
 * while one already running is left to finish for the cache (the wrappers below pass the signal to waits only).
 */
export function withSingleflight<R>(): Wrapper<R> {
  return (inner) => {
    const flights = new Map<string, { promise: Promise<R>; waiting: number; controller: AbortController }>();
    return {
      generate(job, signal) {
        let flight = flights.get(job.key);
        if (!flight) {
          const controller = new AbortController();
          const started = inner.generate(job, controller.signal);
          const entry = { promise: started, waiting: 0, controller };
          flight = entry;
          flights.set(job.key, entry);
          const forget = () => {
            if (flights.get(job.key) === entry) flights.delete(job.key);
          };
          // Every caller may have gone; the rejection is theirs to see, not an unhandled one.
          started.then(forget, forget);
        }
        if (!signal) {
          // A caller that cannot leave keeps the flight wanted for good.
          flight.waiting = Number.POSITIVE_INFINITY;
          return flight.promise;
        }
        const entry = flight;
        entry.waiting++;
        const leave = () => {
          entry.waiting--;
          if (entry.waiting > 0) return;
          // A caller arriving from now on starts afresh instead of joining a cancelled flight.
          if (flights.get(job.key) === entry) flights.delete(job.key);
          entry.controller.abort(signal.reason);
        };
        if (signal.aborted) {
          leave();
          return Promise.reject(aborted(signal));
        }
        signal.addEventListener("abort", leave, { once: true });
        const done = () => signal.removeEventListener("abort", leave);
        entry.promise.then(done, done);
        return untilAborted(entry.promise, signal);
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

/** Slots for plugin runs, shared by every path that runs plugins (artifact generation, buf's remote plugins). */
export interface FairScheduler {
  /**
   * Runs `task` once the owner gets a slot; waits in the owner's queue until then. A waiter whose signal aborts
   * leaves the queue; once `task` holds a slot it is not cancelled by this scheduler.
   */
  run<T>(
    owner: string,
    task: () => Promise<T>,
    opts?: { background?: boolean; signal?: AbortSignal | undefined },
  ): Promise<T>;
}

/**
 * At most `slots` tasks run at once, and at most `perOwner` of one owner (DESIGN invariant 10): one owner's slow
 * plugins cannot hold every slot. When a slot frees, the waiting owner with the fewest running tasks goes next,
 * ties to the one served longest ago; one owner's own tasks keep their arrival order. Background tasks (warming,
 * pre-generation) go only when no waiting request can, and hold at most `slots - 1` slots (when `slots` > 1), so a
 * request never queues behind them.
 */
export function createFairScheduler(opts: FairSchedulingOptions): FairScheduler {
  const { slots, perOwner } = opts;
  for (const [name, n] of Object.entries(opts)) {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`fair scheduling: ${name} must be a positive integer, got ${n}`);
  }
  const backgroundSlots = Math.max(1, slots - 1);
  let running = 0;
  let runningBackground = 0;
  const runningBy = new Map<string, number>();
  // Insertion order is the round-robin order: an owner moves to the end each time it is served.
  const waiting = new Map<string, (() => void)[]>();
  const waitingBackground = new Map<string, (() => void)[]>();
  const mayRun = (owner: string, background: boolean) =>
    running < slots &&
    (runningBy.get(owner) ?? 0) < perOwner &&
    (!background || runningBackground < backgroundSlots);
  const start = (owner: string, background: boolean) => {
    running++;
    if (background) runningBackground++;
    runningBy.set(owner, (runningBy.get(owner) ?? 0) + 1);
  };
  const pick = (queues: Map<string, (() => void)[]>, background: boolean): (() => void) | undefined => {
    let next: string | undefined;
    for (const owner of queues.keys()) {
      if (!mayRun(owner, background)) continue;
      if (next === undefined || (runningBy.get(owner) ?? 0) < (runningBy.get(next) ?? 0)) next = owner;
    }
    if (next === undefined) return undefined;
    const queue = queues.get(next) ?? [];
    const grant = queue.shift();
    queues.delete(next);
    if (queue.length) queues.set(next, queue);
    return grant;
  };
  const dispatch = () => {
    while (running < slots) {
      const grant = pick(waiting, false) ?? pick(waitingBackground, true);
      if (!grant) return;
      grant();
    }
  };
  const release = (owner: string, background: boolean) => {
    running--;
    if (background) runningBackground--;
    const left = (runningBy.get(owner) ?? 1) - 1;
    if (left) runningBy.set(owner, left);
    else runningBy.delete(owner);
    dispatch();
  };
  const acquire = (owner: string, signal: AbortSignal | undefined, background: boolean) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(aborted(signal));
      const queues = background ? waitingBackground : waiting;
      // A background task never passes a waiting request, nor a task waits ahead of its own owner's earlier ones.
      const free = mayRun(owner, background) && !queues.has(owner) && (!background || waiting.size === 0);
      if (free) {
        start(owner, background);
        return resolve();
      }
      const onAbort = () => {
        const queue = queues.get(owner) ?? [];
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        if (!queue.length) queues.delete(owner);
        reject(aborted(signal));
      };
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        start(owner, background);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const queue = queues.get(owner);
      if (queue) queue.push(grant);
      else queues.set(owner, [grant]);
    });
  return {
    async run(owner, task, { background = false, signal } = {}) {
      await acquire(owner, signal, background);
      try {
        return await task();
      } finally {
        release(owner, background);
      }
    },
  };
}

/**
 * Generations through a fair scheduler (its own, or one shared with other plugin runs): at most `slots` at once,
 * at most `perOwner` of one template owner. Once a job holds a slot it is not cancelled: its result goes to the
 * cache for the next caller.
 */
export function withFairScheduling<R>(opts: FairSchedulingOptions | FairScheduler): Wrapper<R> {
  const scheduler = "run" in opts ? opts : createFairScheduler(opts);
  return (inner) => ({
    generate: (job, signal) =>
      scheduler.run(job.owner, () => inner.generate(job), { background: job.background === true, signal }),
  });
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

/**
 * What withLease needs: the published results, and leases on keys that span every node (the server backs it with
 * the MetadataStore's leases and artifacts, and the BlobStore). `L` is the coordinator's own lease handle.
 */
export interface LeaseCoordinator<R, L> {
  /** The published result for key, if any. */
  get(key: string): Promise<R | undefined>;
  /** The lease on key, or undefined while another node holds it. */
  acquire(key: string): Promise<L | undefined>;
  /** Extends the lease; false when it was lost (it expired and another node took it). */
  renew(lease: L): Promise<boolean>;
  /**
   * Stores the result and ends the lease in one step, or publishes nothing and answers undefined when the lease was
   * lost: a stale holder never publishes over the node that took over.
   */
  publish(lease: L, result: GenerationResult): Promise<R | undefined>;
  /** Ends the lease after a failure, so a waiting node tries at once instead of after the expiry. */
  release(lease: L): Promise<void>;
  /** Resolves when the lease on key may have ended (a release anywhere, a poll, or its expiry). */
  wait(key: string, signal?: AbortSignal): Promise<void>;
}

export interface LeaseOptions {
  /** How often a holder renews its lease while it generates; well below the lease's time to live. */
  heartbeatMs: number;
}

/**
 * One generation per key across every node sharing the coordinator's database (DESIGN invariant 4): the node that
 * takes the lease generates and publishes; the others wait for its result. A holder that dies stops renewing, so
 * its lease expires and a waiter takes over; a holder that lost its lease while it ran does not publish, and takes
 * the new holder's result instead. Like withCache it turns GenerationResults into the coordinator's R.
 */
export function withLease<R, L>(
  coordinator: LeaseCoordinator<R, L>,
  opts: LeaseOptions,
): (g: Generator<GenerationResult>) => Generator<R> {
  return (inner) => ({
    async generate(job: GenerationJob, signal?: AbortSignal): Promise<R> {
      for (;;) {
        signal?.throwIfAborted();
        const hit = await coordinator.get(job.key);
        if (hit !== undefined) return hit;
        const lease = await coordinator.acquire(job.key);
        if (lease === undefined) {
          await coordinator.wait(job.key, signal);
          continue;
        }
        const published = await generateHolding(inner, coordinator, lease, job, opts, signal);
        if (published !== undefined) return published;
        // The lease was lost while the generation ran: the node that took it over publishes, we wait for it.
      }
    },
  });
}

async function generateHolding<R, L>(
  inner: Generator<GenerationResult>,
  coordinator: LeaseCoordinator<R, L>,
  lease: L,
  job: GenerationJob,
  opts: LeaseOptions,
  signal: AbortSignal | undefined,
): Promise<R | undefined> {
  let lost = false;
  const stop = new AbortController();
  const heartbeat = setInterval(() => {
    coordinator.renew(lease).then(
      (held) => {
        if (!held && !lost) {
          lost = true;
          stop.abort(new RegistryError(Code.Unavailable, "generation lease was lost to another node"));
        }
      },
      // A failed renewal (database briefly away) is retried at the next beat; the expiry decides.
      () => {},
    );
  }, opts.heartbeatMs);
  heartbeat.unref();
  try {
    // Published between our look and our lease (by the previous holder): nothing to generate.
    const already = await coordinator.get(job.key);
    if (already !== undefined) {
      await coordinator.release(lease);
      return already;
    }
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const result = await inner.generate(job, combined);
    return await coordinator.publish(lease, result);
  } catch (err) {
    if (lost && !signal?.aborted) return undefined;
    await coordinator.release(lease).catch(() => {});
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
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
