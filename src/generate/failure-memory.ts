// A negative cache for generations: a key whose generation failed the same way it would fail again answers with
// that failure for a while, without running a plugin, so repeating a failing URL costs nothing.
import { createCache } from "../core/cache.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { GenerationJob, Wrapper } from "./generator.js";

export interface FailureMemoryOptions {
  /** How long a key's first failure is remembered; each failure after that one doubles it. 0: remember nothing. */
  minMs: number;
  /** The longest a failure is remembered. */
  maxMs: number;
  /** The most keys remembered at once; the least recently failed or asked for are forgotten first. */
  maxKeys?: number;
  /** Milliseconds on a monotonic clock; tests pass their own. */
  now?: () => number;
}

/**
 * Failures that running the same plugins over the same input gives again: a plugin's error or crash, output
 * refused (a bad path, over a cap), a memory limit, a timeout, an image that cannot be unpacked or a plugin that
 * may not run here (FailedPrecondition naming the plugin). Not a cancellation (the client went away, a lease lost:
 * Unavailable), nor a failure of ours (Internal or FailedPrecondition without a plugin): those are retried at once.
 */
export function isLastingFailure(err: unknown): err is RegistryError {
  if (!isRegistryError(err)) return false;
  switch (err.code) {
    case Code.Unprocessable:
    case Code.ResourceExhausted:
    case Code.DeadlineExceeded:
      return true;
    case Code.Internal:
    case Code.FailedPrecondition:
      return err.fields.plugin !== undefined;
    default:
      return false;
  }
}

interface Remembered {
  error: RegistryError;
  /** Failures in a row (the backoff's exponent). */
  failures: number;
  until: number;
}

/**
 * Remembers a key's lasting failure (isLastingFailure) for `minMs`, then twice as long after each further failure
 * in a row, at most `maxMs`; a success forgets it, and so does a quiet spell of `maxMs` after the memory ended.
 * A repeat within the time gets an error of the same code, message and fields without reaching the generator.
 * Kept per process: on a cluster each worker and node learns a failure by running it once.
 */
export function withFailureMemory<R, J extends GenerationJob = GenerationJob>(
  opts: FailureMemoryOptions,
): Wrapper<R, J> {
  const { minMs, maxMs } = opts;
  const maxKeys = opts.maxKeys ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  // An entry outlives its memory by maxMs, so that a failure within that quiet spell counts as one more in a row.
  const memory = createCache<Remembered>({ bound: { maxEntries: maxKeys }, now });
  const remember = (key: string, error: RegistryError) => {
    const t = now();
    const before = memory.get(key);
    // Every caller of one shared flight sees the same error: one failure, however many waited for it.
    if (before?.error === error) return;
    const failures = before !== undefined ? before.failures + 1 : 1;
    const ms = Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
    memory.set(key, { error, failures, until: t + ms }, { ttlMs: ms + maxMs });
  };
  return (inner) => {
    if (minMs <= 0) return inner;
    return {
      async generate(job, signal) {
        const known = memory.get(job.key);
        if (known && now() < known.until) {
          const { code, message, fields } = known.error;
          throw new RegistryError(code, message, fields);
        }
        try {
          const result = await inner.generate(job, signal);
          memory.delete(job.key);
          return result;
        } catch (err) {
          if (isLastingFailure(err)) remember(job.key, err);
          throw err;
        }
      },
    };
  };
}
