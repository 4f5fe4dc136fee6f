// Waiting on shared work with a caller's own signal: the caller stops waiting, the work goes on for the others.

/**
 * `pending`'s result, unless `signal` aborts first: then it rejects with `reason(signal)` (by default the
 * signal's own reason). The work behind `pending` is not cancelled: other callers may be waiting on it too.
 */
export function unlessAborted<T>(
  pending: Promise<T>,
  signal: AbortSignal | undefined,
  reason: (signal: AbortSignal) => unknown = (s) => s.reason,
): Promise<T> {
  if (!signal) return pending;
  if (signal.aborted) return Promise.reject(reason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
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
