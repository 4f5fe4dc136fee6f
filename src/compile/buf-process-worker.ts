// The worker thread of buf-process-thread.ts: packs a run's stdin and spawns the run there. Node's spawn blocks
// its thread until the child has exec'd (fork, then a wait for exec), 85–520 ms measured on a loaded machine, and
// packing a 27 MB workspace tar took 100–180 ms: on the server's main thread both stalled every request.
import { parentPort } from "node:worker_threads";
import { createTar, type TarEntry } from "../packaging/tar.js";
import { type ProcessOutcome, type ProcessSpec, runProcess } from "../plugins/sandbox/run-process.js";

export type RunStdin = { bytes: Uint8Array } | { tar: TarEntry[] };

export type ThreadRequest =
  | { kind: "run"; id: number; spec: ProcessSpec; stdin: RunStdin; timeoutMs: number; maxStdoutBytes: number }
  | { kind: "cancel"; id: number };

/** ProcessOutcome with its errors reduced to messages, as they cross threads. */
export type ThreadOutcome =
  | Exclude<ProcessOutcome, { kind: "aborted" } | { kind: "spawn-error" }>
  | { kind: "aborted" }
  | { kind: "spawn-error"; message: string };

const running = new Map<number, AbortController>();

async function run(req: Extract<ThreadRequest, { kind: "run" }>): Promise<ThreadOutcome> {
  const controller = new AbortController();
  running.set(req.id, controller);
  try {
    const stdin = "tar" in req.stdin ? await createTar(req.stdin.tar) : req.stdin.bytes;
    const outcome = await runProcess(req.spec, {
      stdin,
      timeoutMs: req.timeoutMs,
      maxStdoutBytes: req.maxStdoutBytes,
      signal: controller.signal,
    });
    if (outcome.kind === "aborted") return { kind: "aborted" };
    if (outcome.kind === "spawn-error") return { kind: "spawn-error", message: outcome.error.message };
    return outcome;
  } catch (err) {
    return { kind: "spawn-error", message: err instanceof Error ? err.message : String(err) };
  } finally {
    running.delete(req.id);
  }
}

parentPort?.on("message", (req: ThreadRequest) => {
  if (req.kind === "cancel") {
    running.get(req.id)?.abort();
    return;
  }
  void run(req).then((outcome) => {
    // Parts that own their memory move to the main thread; small ones (views into a shared pool) are copied.
    const transfer =
      outcome.kind === "exited"
        ? outcome.stdout
            .filter((p) => p.byteOffset === 0 && p.byteLength === p.buffer.byteLength)
            .map((p) => p.buffer as ArrayBuffer)
        : [];
    parentPort?.postMessage({ id: req.id, outcome }, transfer);
  });
});
