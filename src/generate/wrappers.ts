// Behaviour around a Generator: one flight per key (per process, and by lease across nodes), a cache in front,
// bounded generations at once, scheduled fairly across the payers of each run.
import { unlessAborted } from "../core/abort.js";
import { Code, RegistryError } from "../core/errors.js";
import type { GenerationJob, GenerationResult, Generator, Wrapper } from "./generator.js";

/**
 * One generation per `job.key` at a time (docs/architecture.md, rule "One generation per artifact at a time"): callers arriving while it runs get the very same
 * promise. The flight is forgotten when it settles, so a failure is not remembered and the next call retries.
 * A caller's signal only stops that caller's wait. When every caller of a flight has given up (each passed a signal
 * and each aborted), the flight's own signal aborts: a generation still waiting for a slot is then never started,
 * while one already running is left to finish for the cache (the wrappers below pass the signal to waits only).
 */
export function withSingleflight<R, J extends GenerationJob = GenerationJob>(): Wrapper<R, J> {
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
        return unlessAborted(entry.promise, signal, aborted);
      },
    };
  };
}

export interface FairSchedulingOptions {
  /** Generations at once, in all. */
  slots: number;
  /**
   * Runs at once charged to one payer (a user, with the organizations it owns); below `slots`, so a busy payer
   * always leaves room for the others.
   */
  perOwner: number;
  /** Runs at once charged to every anonymous caller together (the payer `ANONYMOUS`); defaults to `perOwner`. */
  anonymous?: number | undefined;
}

/** The payer every anonymous caller shares: one small pool, whoever they are. Not a valid owner name. */
export const ANONYMOUS = "(anonymous)";

/** Slots for plugin runs, shared by every path that runs plugins (artifact generation, buf's remote plugins). */
export interface FairScheduler {
  /**
   * Runs `task` once a slot is free and none of its payers is at its cap; waits until then. `payers` is everyone
   * the run is charged to (docs/serving.md, *Plugin slots*); one string is one payer, as before payers existed.
   * A waiter whose signal aborts leaves the queue; once `task` holds a slot it is not cancelled by this scheduler.
   */
  run<T>(
    payers: string | readonly string[],
    task: () => Promise<T>,
    opts?: { background?: boolean; signal?: AbortSignal | undefined },
  ): Promise<T>;
}

/** The runs waiting with one set of payers, in arrival order (they are charged alike, so FIFO among them is fair). */
interface Queue {
  payers: readonly string[];
  grants: (() => void)[];
}

/**
 * At most `slots` tasks run at once, and a task runs only while none of its payers holds its cap (`perOwner`, or
 * `anonymous` for `ANONYMOUS`): one payer's slow plugins cannot hold every slot, whatever caller, plugin or
 * template they come through (docs/serving.md, *Plugin slots*). When a slot frees, the waiting tasks are
 * grouped by their set of payers, and the group whose busiest payer runs the fewest tasks goes next, ties to the
 * group served longest ago: a flood from one set of payers (240 anonymous requests of one template) takes its
 * turn beside everyone else instead of ahead of them. Background tasks (warming, pre-generation) go only when no
 * waiting request can, and hold at most `slots - 1` slots (when `slots` > 1), so a request never queues behind them.
 */
export function createFairScheduler(opts: FairSchedulingOptions): FairScheduler {
  const ledger = createLedger(opts);
  // Insertion order is the round-robin order: a group moves to the end each time it is served.
  const waiting = new Map<string, Queue>();
  const waitingBackground = new Map<string, Queue>();
  const dispatch = () => {
    while (ledger.hasFreeSlot()) {
      const grant = pickFrom(waiting, ledger, false) ?? pickFrom(waitingBackground, ledger, true);
      if (!grant) return;
      grant();
    }
  };
  const acquire = (payers: readonly string[], signal: AbortSignal | undefined, background: boolean) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(aborted(signal));
      const queues = background ? waitingBackground : waiting;
      const key = payers.join("\0");
      const onAbort = () => {
        const queue = queues.get(key);
        const i = queue?.grants.indexOf(grant) ?? -1;
        if (queue && i >= 0) queue.grants.splice(i, 1);
        if (queue && !queue.grants.length) queues.delete(key);
        reject(aborted(signal));
      };
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        ledger.charge(payers, background, 1);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const queue = queues.get(key);
      if (queue) queue.grants.push(grant);
      else queues.set(key, { payers, grants: [grant] });
      // Only the new task's group can have become runnable: every other was dispatched or blocked before.
      dispatch();
    });
  return {
    async run(payers, task, { background = false, signal } = {}) {
      const charged = [...new Set(typeof payers === "string" ? [payers] : payers)].sort();
      await acquire(charged, signal, background);
      try {
        return await task();
      } finally {
        ledger.charge(charged, background, -1);
        dispatch();
      }
    },
  };
}

/** Who holds slots now, and whether a set of payers may take one more. */
interface Ledger {
  hasFreeSlot(): boolean;
  mayRun(payers: readonly string[], background: boolean): boolean;
  /** Runs of the busiest of these payers. */
  busiest(payers: readonly string[]): number;
  /** +1 when a run starts, -1 when it ends. */
  charge(payers: readonly string[], background: boolean, delta: 1 | -1): void;
}

function createLedger(opts: FairSchedulingOptions): Ledger {
  const { slots, perOwner } = opts;
  const anonymous = opts.anonymous ?? perOwner;
  for (const [name, n] of Object.entries({ slots, perOwner, anonymous })) {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`fair scheduling: ${name} must be a positive integer, got ${n}`);
  }
  const capOf = (payer: string) => (payer === ANONYMOUS ? anonymous : perOwner);
  const backgroundSlots = Math.max(1, slots - 1);
  let running = 0;
  let runningBackground = 0;
  const runningBy = new Map<string, number>();
  return {
    hasFreeSlot: () => running < slots,
    mayRun: (payers, background) =>
      running < slots &&
      payers.every((p) => (runningBy.get(p) ?? 0) < capOf(p)) &&
      (!background || runningBackground < backgroundSlots),
    busiest: (payers) => payers.reduce((n, p) => Math.max(n, runningBy.get(p) ?? 0), 0),
    charge(payers, background, delta) {
      running += delta;
      if (background) runningBackground += delta;
      for (const p of payers) {
        const now = (runningBy.get(p) ?? 0) + delta;
        if (now > 0) runningBy.set(p, now);
        else runningBy.delete(p);
      }
    },
  };
}

/** Takes the next grant of the runnable group whose busiest payer runs the fewest tasks (ties: served longest ago). */
function pickFrom(queues: Map<string, Queue>, ledger: Ledger, background: boolean): (() => void) | undefined {
  let next: string | undefined;
  let nextLoad = 0;
  for (const [key, queue] of queues) {
    if (!ledger.mayRun(queue.payers, background)) continue;
    const load = ledger.busiest(queue.payers);
    if (next === undefined || load < nextLoad) {
      next = key;
      nextLoad = load;
    }
  }
  if (next === undefined) return undefined;
  const queue = queues.get(next) as Queue;
  const grant = queue.grants.shift();
  queues.delete(next);
  if (queue.grants.length) queues.set(next, queue);
  return grant;
}

/**
 * Generations through a fair scheduler (its own, or one shared with other plugin runs), charged to the job's
 * payers (`job.payers`, else its owner). Once a job holds a slot it is not cancelled: its result goes to the
 * cache for the next caller.
 */
export function withFairScheduling<R>(opts: FairSchedulingOptions | FairScheduler): Wrapper<R> {
  const scheduler = "run" in opts ? opts : createFairScheduler(opts);
  return (inner) => ({
    generate: (job, signal) =>
      scheduler.run(job.payers ?? job.owner, () => inner.generate(job), {
        background: job.background === true,
        signal,
      }),
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
 * (docs/architecture.md: "nothing from a failed run is stored"). It changes the result type from GenerationResult to the cache's R, so it sits between
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
export interface LeaseCoordinator<R, L, J extends GenerationJob = GenerationJob> {
  /** The published result of the job, if any. */
  get(job: J): Promise<R | undefined>;
  /** The lease on the job, or undefined while another node holds it. */
  acquire(job: J): Promise<L | undefined>;
  /** Extends the lease; false when it was lost (it expired and another node took it). */
  renew(lease: L): Promise<boolean>;
  /**
   * Stores the job's result and ends the lease in one step, or publishes nothing and answers undefined when the
   * lease was lost: a stale holder never publishes over the node that took over.
   */
  publish(lease: L, result: GenerationResult, job: J): Promise<R | undefined>;
  /** Ends the lease after a failure, so a waiting node tries at once instead of after the expiry. */
  release(lease: L): Promise<void>;
  /** Resolves when the lease on the job may have ended (a release anywhere, a poll, or its expiry). */
  wait(job: J, signal?: AbortSignal): Promise<void>;
}

export interface LeaseOptions {
  /** How often a holder renews its lease while it generates; well below the lease's time to live. */
  heartbeatMs: number;
}

/**
 * One generation per key across every node sharing the coordinator's database (docs/architecture.md, rule "One generation per artifact at a time"): the node that
 * takes the lease generates and publishes; the others wait for its result. A holder that dies stops renewing, so
 * its lease expires and a waiter takes over; a holder that lost its lease while it ran does not publish, and takes
 * the new holder's result instead. Like withCache it turns GenerationResults into the coordinator's R.
 */
export function withLease<R, L, J extends GenerationJob = GenerationJob>(
  coordinator: LeaseCoordinator<R, L, J>,
  opts: LeaseOptions,
): (g: Generator<GenerationResult>) => Generator<R, J> {
  return (inner) => ({
    async generate(job: J, signal?: AbortSignal): Promise<R> {
      for (;;) {
        signal?.throwIfAborted();
        const hit = await coordinator.get(job);
        if (hit !== undefined) return hit;
        const lease = await coordinator.acquire(job);
        if (lease === undefined) {
          await coordinator.wait(job, signal);
          continue;
        }
        const published = await generateHolding(inner, coordinator, lease, job, opts, signal);
        if (published !== undefined) return published;
        // The lease was lost while the generation ran: the node that took it over publishes, we wait for it.
      }
    },
  });
}

async function generateHolding<R, L, J extends GenerationJob>(
  inner: Generator<GenerationResult>,
  coordinator: LeaseCoordinator<R, L, J>,
  lease: L,
  job: J,
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
    const already = await coordinator.get(job);
    if (already !== undefined) {
      await coordinator.release(lease);
      return already;
    }
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const result = await inner.generate(job, combined);
    return await coordinator.publish(lease, result, job);
  } catch (err) {
    if (lost && !signal?.aborted) return undefined;
    await coordinator.release(lease).catch(() => {});
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
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
