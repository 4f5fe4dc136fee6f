// Merges the plugins' responses of one generation (output.ts) on the event loop when that is cheap, and otherwise
// in a worker thread with its own heap limit and a deadline, so no plugin output can stall or exhaust the server.
import { Worker } from "node:worker_threads";
import { Code, RegistryError } from "../core/errors.js";
import type { PluginResponse_File } from "../gen/protodepot/plugin/v1/response_pb.js";
import { createOutputTree, MergeTooSlow, type OutputLimits, wantedPoints } from "./output.js";

export interface PluginOutput {
  /** `owner/name:version`. */
  plugin: string;
  files: readonly PluginResponse_File[];
}

export interface MergedFile {
  path: string;
  content: Uint8Array;
}

export interface MergeOptions {
  limits: OutputLimits;
  /** How long a merge in the worker may take (plugins.timeoutMs). */
  deadlineMs: number;
  /**
   * Merged on the event loop when the files that receive insertions, and the insertions, hold at most this many
   * bytes (and protoc's slow rule scans at most as many): a planned merge copies each byte once, ≈ 1 ms per MiB.
   */
  inlineBytes?: number;
  /** The worker's heap (old generation) in MiB; by default twice plugins.maxOutputBytes plus 64. */
  workerHeapMb?: number;
  signal?: AbortSignal;
}

export const defaultInlineBytes = 4 * 2 ** 20;

/** Every file of the responses, merged in plugin order and sorted by path; throws a RegistryError naming the plugin. */
export async function mergeOutputs(
  outputs: readonly PluginOutput[],
  opts: MergeOptions,
): Promise<MergedFile[]> {
  const inlineBytes = opts.inlineBytes ?? defaultInlineBytes;
  if (bytesToMerge(outputs) <= inlineBytes) {
    try {
      const tree = createOutputTree(opts.limits, { maxSlowWork: inlineBytes, wanted: wantedPoints(outputs) });
      for (const o of outputs) tree.add(o.plugin, o.files);
      return tree.files();
    } catch (err) {
      if (!(err instanceof MergeTooSlow)) throw err;
    }
  }
  return mergeInWorker(outputs, opts);
}

/** Bytes of the files that receive insertions and of the insertions: what merging costs beyond passing views on. */
function bytesToMerge(outputs: readonly PluginOutput[]): number {
  const targets = new Set<string>();
  for (const o of outputs) for (const f of o.files) if (f.insertionPoint !== "") targets.add(f.name);
  if (targets.size === 0) return 0;
  let bytes = 0;
  for (const o of outputs) {
    let current = "";
    for (const f of o.files) {
      if (f.name !== "") current = f.name;
      if (targets.has(current)) bytes += f.content.byteLength;
    }
  }
  return bytes;
}

/** A chunk whose content is `length` bytes at `offset` of buffer number `buffer` of the message. */
export interface WireChunk {
  name: string;
  insertionPoint: string;
  buffer: number;
  offset: number;
  length: number;
}

export interface MergeRequest {
  limits: OutputLimits;
  buffers: ArrayBuffer[];
  outputs: { plugin: string; chunks: WireChunk[] }[];
}

export type MergeReply =
  /** Sent before each plugin's files are merged: whom a worker that dies was merging. */
  | { kind: "plugin"; plugin: string }
  | { kind: "done"; files: MergedFile[] }
  | { kind: "error"; code: Code; message: string; plugin: string | undefined };

const fromSource = import.meta.url.endsWith(".ts");
/** What starting the worker may take beyond the deadline. */
const workerStartMs = 30_000;

function startWorker(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };
  const entry = new URL(fromSource ? "./merge-worker.ts" : "./merge-worker.js", import.meta.url).href;
  if (!fromSource) return new Worker(new URL(entry), { resourceLimits });
  // From a checkout, through tsx (bin/protodepot.js registers it on the main thread only).
  const api = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, resourceLimits });
}

/**
 * One merge thread kept between merges (starting one costs about as much as a large merge): a thread that answered
 * is put back, one that failed, overran or was cancelled is terminated. Idle, it keeps no process alive.
 */
const idle = new Map<number, { worker: Worker; forget: () => void }>();

function takeWorker(heapMb: number): Worker {
  const kept = idle.get(heapMb);
  if (!kept) return startWorker(heapMb);
  idle.delete(heapMb);
  // Only our own listeners go: a Worker keeps internal ones that deliver its messages.
  kept.worker.off("error", kept.forget).off("exit", kept.forget);
  kept.worker.ref();
  return kept.worker;
}

function keepWorker(heapMb: number, worker: Worker): void {
  if (idle.has(heapMb)) {
    void worker.terminate();
    return;
  }
  // A thread that dies while idle is forgotten; the next merge starts a new one.
  const forget = () => {
    if (idle.get(heapMb)?.worker === worker) idle.delete(heapMb);
  };
  idle.set(heapMb, { worker, forget });
  worker.once("error", forget).once("exit", forget);
  worker.unref();
}

/** The worker's request: the plugins' stdout buffers moved (not copied) once, chunks as offsets into them. */
function mergeRequest(
  outputs: readonly PluginOutput[],
  limits: OutputLimits,
): { request: MergeRequest; transfer: ArrayBuffer[] } {
  const index = new Map<ArrayBufferLike, number>();
  const buffers: ArrayBuffer[] = [];
  const request: MergeRequest = {
    limits,
    buffers,
    outputs: outputs.map((o) => ({
      plugin: o.plugin,
      chunks: o.files.map((f) => {
        let n = index.get(f.content.buffer);
        if (n === undefined) {
          n = buffers.length;
          index.set(f.content.buffer, n);
          buffers.push(f.content.buffer as ArrayBuffer);
        }
        return {
          name: f.name,
          insertionPoint: f.insertionPoint,
          buffer: n,
          offset: f.content.byteOffset,
          length: f.content.byteLength,
        };
      }),
    })),
  };
  // Node's pool of small Buffers is shared by unrelated ones: those are copied, never moved.
  return { request, transfer: buffers.filter((b) => b.byteLength > Buffer.poolSize) };
}

function mergeInWorker(outputs: readonly PluginOutput[], opts: MergeOptions): Promise<MergedFile[]> {
  const { limits } = opts;
  const heapMb = opts.workerHeapMb ?? 64 + 2 * Math.ceil(limits.maxOutputBytes / 2 ** 20);
  const { request, transfer } = mergeRequest(outputs, limits);
  let current = outputs[0]?.plugin ?? "(none)";
  const failure = (message: string) =>
    new RegistryError(Code.Unprocessable, `plugin ${current} ${message}`, { plugin: current });

  return new Promise<MergedFile[]>((resolve, reject) => {
    const worker = takeWorker(heapMb);
    let settled = false;
    /** `healthy`: the thread answered and may merge again. */
    const finish = (err: unknown, files?: MergedFile[], healthy = false) => {
      if (settled) return;
      settled = true;
      deadline.clear();
      opts.signal?.removeEventListener("abort", onAbort);
      if (healthy) {
        worker.off("message", onMessage).off("error", onError).off("exit", onExit);
        keepWorker(heapMb, worker);
      } else {
        // Its listeners stay: a thread being stopped may still report an error, which must not go unheard.
        void worker.terminate();
      }
      if (files) resolve(files);
      else reject(err);
    };
    const deadline = startedDeadline(opts.deadlineMs, () =>
      finish(failure(`output could not be merged within ${opts.deadlineMs} ms (plugins.timeoutMs)`)),
    );
    const onAbort = () =>
      finish(new RegistryError(Code.Unavailable, `merging the output of plugin ${current} was cancelled`));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const onMessage = (reply: MergeReply) => {
      if (reply.kind === "plugin") {
        current = reply.plugin;
        deadline.started();
      } else if (reply.kind === "done") finish(undefined, reply.files, true);
      else {
        const fields = reply.plugin === undefined ? {} : { plugin: reply.plugin };
        finish(new RegistryError(reply.code, reply.message, fields), undefined, true);
      }
    };
    const onError = (err: Error & { code?: string }) =>
      finish(
        err.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? failure(`output needs more than ${heapMb} MiB to merge`)
          : new RegistryError(
              Code.Internal,
              `merging the output of plugin ${current} failed: ${err.message}`,
              { plugin: current },
            ),
      );
    const onExit = (code: number) => finish(failure(`output merge stopped unexpectedly (exit code ${code})`));
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
    worker.postMessage(request, transfer);
  });
}

/**
 * Starting the thread does not count (from a checkout it compiles the worker's modules first): the deadline runs
 * from its first report, with a generous bound on the start itself.
 */
function startedDeadline(deadlineMs: number, overrun: () => void): { started(): void; clear(): void } {
  let started = false;
  let timer = setTimeout(overrun, deadlineMs + workerStartMs);
  return {
    started() {
      if (started) return;
      started = true;
      clearTimeout(timer);
      timer = setTimeout(overrun, deadlineMs);
    },
    clear: () => clearTimeout(timer),
  };
}
