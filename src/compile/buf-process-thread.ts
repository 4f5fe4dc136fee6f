// Runs buf's processes from a worker thread (buf-process-worker.ts), so neither spawning them nor packing their
// stdin holds the server's event loop. One thread per process, started at the first run and kept.
import type { Worker } from "node:worker_threads";
import type { ProcessSpec } from "../plugins/sandbox/run-process.js";
import type { RunStdin, ThreadOutcome, ThreadRequest } from "./buf-process-worker.js";
import { startWorker } from "./start-worker.js";

export type { RunStdin, ThreadOutcome } from "./buf-process-worker.js";

export interface ProcessThread {
  run(
    spec: ProcessSpec,
    opts: { stdin: RunStdin; timeoutMs: number; maxStdoutBytes: number; signal?: AbortSignal | undefined },
  ): Promise<ThreadOutcome>;
  /** Starts the thread now (idle, it keeps no process alive), so the first push does not pay its start. */
  warm(): void;
  close(): Promise<void>;
}

let shared: ProcessThread | undefined;

/** The process's one thread for buf runs. */
export function sharedProcessThread(): ProcessThread {
  shared ??= createProcessThread();
  return shared;
}

export function createProcessThread(): ProcessThread {
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<number, (outcome: ThreadOutcome) => void>();

  function start(): Worker {
    const w = startWorker("buf-process-worker");
    w.on("message", (answer: { id: number; outcome: ThreadOutcome }) => {
      const done = pending.get(answer.id);
      pending.delete(answer.id);
      if (pending.size === 0) w.unref();
      done?.(answer.outcome);
    });
    const fail = (err: unknown) => {
      if (worker === w) worker = undefined;
      const message = `the buf process thread stopped: ${err instanceof Error ? err.message : String(err)}`;
      for (const done of pending.values()) done({ kind: "spawn-error", message });
      pending.clear();
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`exit ${code}`)));
    // Idle, the thread keeps no process alive; after the listeners, since adding a "message" listener refs it again.
    w.unref();
    return w;
  }

  return {
    async run(spec, opts) {
      if (opts.signal?.aborted) return { kind: "aborted" };
      // Copied before the thread is involved, so an abort meanwhile leaves nothing pending.
      const { stdin, transfer } = await ownedStdin(opts.stdin);
      if (opts.signal?.aborted) return { kind: "aborted" };
      worker ??= start();
      const w = worker;
      const id = ++next;
      w.ref();
      return new Promise<ThreadOutcome>((resolve) => {
        const onAbort = () => w.postMessage({ kind: "cancel", id } satisfies ThreadRequest);
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        pending.set(id, (outcome) => {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve(outcome);
        });
        const req: ThreadRequest = {
          kind: "run",
          id,
          spec,
          stdin,
          timeoutMs: opts.timeoutMs,
          maxStdoutBytes: opts.maxStdoutBytes,
        };
        w.postMessage(req, transfer);
      });
    },
    warm() {
      worker ??= start();
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

/**
 * Each file copied once into memory of its own, to be moved to the thread rather than cloned with the buffer it is
 * a view into (pushed files are views into one request body). One file per turn of the event loop: copying a
 * 27 MB push at once held it for tens of milliseconds.
 */
async function ownedStdin(stdin: RunStdin): Promise<{ stdin: RunStdin; transfer: ArrayBuffer[] }> {
  const transfer: ArrayBuffer[] = [];
  const own = (bytes: Uint8Array) => {
    const copy = bytes.slice();
    transfer.push(copy.buffer);
    return copy;
  };
  if (!("tar" in stdin)) return { stdin: { bytes: own(stdin.bytes) }, transfer };
  const tar: typeof stdin.tar = [];
  for (const e of stdin.tar) {
    tar.push({ ...e, content: own(e.content) });
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { stdin: { tar }, transfer };
}
