// Gives memory back after work that went through many large transient buffers: a large push, a large generation.
//
// V8 frees ArrayBuffers only when a collection runs, and it starts one for external memory only after tens of
// megabytes more than at the last one; nothing else asks while the server waits on a plugin or on the network.
// Measured with the 19 MB bench module (bench/generate/large.ts): 88 MB of a push's buffers were still in RSS
// when the next generation added its own, so the peak was the sum of both. A full collection of our heap takes a
// few milliseconds, so after such work we run one, at most once per interval, a moment after the work (when the
// request that made the garbage has answered and dropped it).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Transient bytes that make a collection worth its pause. */
const thresholdBytes = 16 * 2 ** 20;
const minIntervalMs = 1000;
/** Long enough for the request to answer (a push's last step is one short transaction), short beside any next one. */
const delayMs = 100;

let collect: (() => void) | undefined | null = null;
let pendingBytes = 0;
let scheduled = false;
let lastAt = 0;

/** The engine's full collection, exposed once; undefined if this runtime refuses (then reclaiming is a no-op). */
function collector(): (() => void) | undefined {
  if (collect === null) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      collect = typeof gc === "function" ? () => void gc() : undefined;
    } catch {
      collect = undefined;
    }
  }
  return collect;
}

/** Notes `bytes` of buffers that just became garbage; collects once enough has piled up. */
export function reclaimAfter(bytes: number): void {
  pendingBytes += bytes;
  if (pendingBytes < thresholdBytes || scheduled) return;
  scheduled = true;
  const wait = Math.max(delayMs, lastAt + minIntervalMs - Date.now());
  setTimeout(() => {
    scheduled = false;
    pendingBytes = 0;
    lastAt = Date.now();
    collector()?.();
  }, wait).unref();
}
