// Runs image-checks.ts in a worker thread, so decoding a large compiled image (seconds for one of hundreds of
// thousands of messages) never stalls the event loop (docs/architecture.md, rule "buf never runs on pushed content
// outside the sandbox": what the server does itself with a push's bytes runs in a worker). One worker per process,
// started at the first check and kept; a heap limit of its own bounds what one image may cost.
import type { Worker } from "node:worker_threads";
import { Code, RegistryError } from "../core/errors.js";
import type { CheckAnswer, CheckRequest } from "./image-check-worker.js";
import { startWorker } from "./start-worker.js";

export interface ImageChecks {
  /** Throws RegistryError: InvalidArgument for what checkImage refuses, ResourceExhausted past the heap limit. */
  check(image: Uint8Array, owners: ReadonlyMap<string, string>): Promise<void>;
  /** Starts the thread now (idle, it keeps no process alive), so the first push does not pay its start. */
  warm(): void;
  close(): Promise<void>;
}

/** Heap of the worker: a 256 MiB image decodes without its source info in a fraction of it. */
const defaultHeapMb = 1024;

let shared: ImageChecks | undefined;

/** The process's one checker (what the compiler uses unless given another). */
export function sharedImageChecks(): ImageChecks {
  shared ??= createImageCheckThread();
  return shared;
}

export function createImageCheckThread(opts: { heapMb?: number } = {}): ImageChecks {
  const heapMb = opts.heapMb ?? defaultHeapMb;
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();

  function start(): Worker {
    const w = startWorker("image-check-worker", { resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    w.on("message", (answer: CheckAnswer) => {
      const waiter = pending.get(answer.id);
      pending.delete(answer.id);
      if (pending.size === 0) w.unref();
      if (!waiter) return;
      if (answer.ok) return waiter.resolve();
      const code = Object.values(Code).includes(answer.code as Code) ? (answer.code as Code) : Code.Internal;
      waiter.reject(
        new RegistryError(code, answer.message, answer.details ? { details: answer.details } : {}),
      );
    });
    const fail = (err: unknown) => {
      if (worker === w) worker = undefined;
      const outOfMemory = (err as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY";
      for (const waiter of pending.values()) {
        waiter.reject(
          outOfMemory
            ? new RegistryError(
                Code.ResourceExhausted,
                `checking the compiled image needed more than ${heapMb} MiB: split the module`,
              )
            : new RegistryError(Code.Internal, "the image check thread stopped", {}, { cause: err }),
        );
      }
      pending.clear();
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`exit ${code}`)));
    // Idle, the thread keeps no process alive; after the listeners, since adding a "message" listener refs it again.
    w.unref();
    return w;
  }

  return {
    check(image, owners) {
      worker ??= start();
      const w = worker;
      const id = ++next;
      w.ref();
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const req: CheckRequest = { id, image, owners: [...owners] };
        w.postMessage(req);
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
