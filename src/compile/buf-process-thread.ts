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
    run(spec, opts) {
      if (opts.signal?.aborted) return Promise.resolve({ kind: "aborted" });
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
        // Each file is copied once into memory of its own and moved, not cloned with the buffer it is a view into
        // (pushed files are views into one request body).
        const transfer: ArrayBuffer[] = [];
        const own = (bytes: Uint8Array) => {
          const copy = bytes.slice();
          transfer.push(copy.buffer);
          return copy;
        };
        const stdin: RunStdin =
          "tar" in opts.stdin
            ? { tar: opts.stdin.tar.map((e) => ({ ...e, content: own(e.content) })) }
            : { bytes: own(opts.stdin.bytes) };
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
