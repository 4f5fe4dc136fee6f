// Unpacked image roots on disk, one per image manifest digest, bounded in bytes; the least recently used go first.

import { spawn } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { applyLayer, finishRoot, LayerError, type UnpackLimits, type UnpackState } from "./unpack.js";

export interface RootfsCacheOptions {
  /** Directory of the cache; `{hex}/` roots, `{hex}.size` their sizes, `tmp-*` unpacks in progress. */
  dir: string;
  /** Bytes of unpacked roots kept; a root in use is never evicted, so the total may pass this for a while. */
  maxBytes: number;
  /** Per image; the block size is this directory's filesystem's, and the signal the deadline's. */
  limits: Omit<UnpackLimits, "blockSize" | "signal">;
  /** Deadline of one image's unpack (oci.unpackTimeoutMs). */
  timeoutMs?: number;
}

export interface Rootfs {
  root: string;
  /** The run is over: the root may be evicted again. */
  release(): void;
}

export interface RootfsCache {
  /** The unpacked root of image `digest`, unpacking its layers (opened in order by `open`) on first use. */
  acquire(digest: string, layers: readonly (() => Promise<Readable>)[]): Promise<Rootfs>;
  /** Bytes of roots on disk, as `du` counts them (every entry a block, files rounded up to blocks). */
  size(): number;
  readonly dir: string;
}

interface Entry {
  hex: string;
  bytes: number;
  users: number;
}

/** What a previous run of the server left: finished roots (oldest first) are kept, half-done unpacks removed. */
function recoverRoots(dir: string): { hex: string; bytes: number }[] {
  const found: { hex: string; bytes: number; mtime: number }[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith("tmp-")) {
      rmSync(join(dir, name), { recursive: true, force: true });
      continue;
    }
    const m = /^([0-9a-f]{64})\.size$/.exec(name);
    if (!m?.[1]) continue;
    const sizeFile = join(dir, name);
    found.push({
      hex: m[1],
      bytes: Number(readFileSync(sizeFile, "utf8")) || 0,
      mtime: statSync(sizeFile).mtimeMs,
    });
  }
  return found.sort((a, b) => a.mtime - b.mtime).map(({ hex, bytes }) => ({ hex, bytes }));
}

/** An AbortSignal that fires after timeoutMs with the message the caller sees, and its cancel. */
function unpackDeadline(timeoutMs: number | undefined): { signal: AbortSignal; cancel(): void } {
  const deadline = new AbortController();
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            deadline.abort(
              new Error(`unpacking the image took longer than ${timeoutMs} ms (oci.unpackTimeoutMs)`),
            ),
          timeoutMs,
        );
  return { signal: deadline.signal, cancel: () => clearTimeout(timer) };
}

/** Unpacks the layers into `{dir}/{hex}` through a temp dir (nothing half-done is ever a root); returns its bytes. */
async function unpackImage(
  opts: RootfsCacheOptions,
  blockSize: number,
  hex: string,
  layers: readonly (() => Promise<Readable>)[],
): Promise<number> {
  const tmp = join(opts.dir, `tmp-${hex}-${process.pid}-${Date.now()}`);
  const root = join(tmp, "rootfs");
  mkdirSync(root, { recursive: true, mode: 0o755 });
  // The root and what finishRoot adds count too.
  const state: UnpackState = { bytes: 4 * blockSize, entries: 0 };
  const deadline = unpackDeadline(opts.timeoutMs);
  const limits: UnpackLimits = { ...opts.limits, blockSize, signal: deadline.signal };
  try {
    for (const open of layers) {
      const layer = await open();
      if (deadline.signal.aborted) {
        layer.destroy();
        throw new LayerError(String((deadline.signal.reason as Error).message));
      }
      await applyLayer(root, layer, limits, state);
    }
    finishRoot(root);
    renameSync(root, join(opts.dir, hex));
    writeFileSync(join(opts.dir, `${hex}.size`), String(state.bytes));
  } finally {
    deadline.cancel();
    await removeTree(tmp);
  }
  return state.bytes;
}

export function createRootfsCache(opts: RootfsCacheOptions): RootfsCache {
  // Searchable, not listable: the sandbox's user (nobody) must reach the roots it mounts, nothing more.
  mkdirSync(opts.dir, { recursive: true });
  chmodSync(opts.dir, 0o711);
  // Map order is recency order: the first entry is the least recently used.
  const entries = new Map<string, Entry>();
  const unpacking = new Map<string, Promise<Entry>>();
  let total = 0;
  const blockSize = statfsSync(opts.dir).bsize || 4096;
  const add = (hex: string, bytes: number): Entry => {
    const entry = { hex, bytes, users: 0 };
    entries.set(hex, entry);
    total += bytes;
    return entry;
  };
  for (const f of recoverRoots(opts.dir)) add(f.hex, f.bytes);

  const touch = (e: Entry) => {
    entries.delete(e.hex);
    entries.set(e.hex, e);
  };

  async function evict() {
    for (const e of [...entries.values()]) {
      if (total <= opts.maxBytes) return;
      if (e.users > 0) continue;
      entries.delete(e.hex);
      total -= e.bytes;
      rmSync(join(opts.dir, `${e.hex}.size`), { force: true });
      await removeTree(join(opts.dir, e.hex));
    }
  }

  /** The entry of hex, unpacking it once however many ask at the same time. */
  function entryOf(hex: string, layers: readonly (() => Promise<Readable>)[]): Promise<Entry> {
    const entry = entries.get(hex);
    if (entry) return Promise.resolve(entry);
    let flight = unpacking.get(hex);
    if (!flight) {
      flight = unpackImage(opts, blockSize, hex, layers).then((bytes) => add(hex, bytes));
      unpacking.set(hex, flight);
      flight.then(
        () => unpacking.delete(hex),
        () => unpacking.delete(hex),
      );
    }
    return flight;
  }

  return {
    async acquire(digest, layers) {
      const hex = digest.replace(/^sha256:/, "");
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a sha256 digest: ${digest}`);
      const entry = await entryOf(hex, layers);
      entry.users++;
      touch(entry);
      await evict();
      let released = false;
      return {
        root: join(opts.dir, hex),
        release() {
          if (released) return;
          released = true;
          entry.users--;
          void evict();
        },
      };
    },
    size: () => total,
    dir: opts.dir,
  };
}

/**
 * Removes a root of possibly 100,000s of entries in a child `rm -rf`: fs.promises.rm would queue every entry on
 * libuv's small thread pool, where the server's other file work (the /healthz blob probe, blob reads) then waits.
 * Falls back to fs.promises.rm where there is no `rm`.
 */
async function removeTree(path: string): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn("rm", ["-rf", "--", path], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
  if (!ok) await rm(path, { recursive: true, force: true });
}
