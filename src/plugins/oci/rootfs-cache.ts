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

export function createRootfsCache(opts: RootfsCacheOptions): RootfsCache {
  // Searchable, not listable: the sandbox's user (nobody) must reach the roots it mounts, nothing more.
  mkdirSync(opts.dir, { recursive: true });
  chmodSync(opts.dir, 0o711);
  // Map order is recency order: the first entry is the least recently used.
  const entries = new Map<string, Entry>();
  const unpacking = new Map<string, Promise<Entry>>();
  let total = 0;
  const blockSize = statfsSync(opts.dir).bsize || 4096;

  // What a previous run of the server left: finished roots are reused (oldest first), half-done unpacks removed.
  const found: { hex: string; bytes: number; mtime: number }[] = [];
  for (const name of readdirSync(opts.dir)) {
    if (name.startsWith("tmp-")) {
      rmSync(join(opts.dir, name), { recursive: true, force: true });
      continue;
    }
    const m = /^([0-9a-f]{64})\.size$/.exec(name);
    if (!m?.[1]) continue;
    const sizeFile = join(opts.dir, name);
    found.push({
      hex: m[1],
      bytes: Number(readFileSync(sizeFile, "utf8")) || 0,
      mtime: statSync(sizeFile).mtimeMs,
    });
  }
  for (const f of found.sort((a, b) => a.mtime - b.mtime)) {
    entries.set(f.hex, { hex: f.hex, bytes: f.bytes, users: 0 });
    total += f.bytes;
  }

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

  async function unpack(hex: string, layers: readonly (() => Promise<Readable>)[]): Promise<Entry> {
    const tmp = join(opts.dir, `tmp-${hex}-${process.pid}-${Date.now()}`);
    const root = join(tmp, "rootfs");
    mkdirSync(root, { recursive: true, mode: 0o755 });
    // The root and what finishRoot adds count too.
    const state: UnpackState = { bytes: 4 * blockSize, entries: 0 };
    const timeoutMs = opts.timeoutMs;
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
      clearTimeout(timer);
      await removeTree(tmp);
    }
    const entry = { hex, bytes: state.bytes, users: 0 };
    entries.set(hex, entry);
    total += entry.bytes;
    return entry;
  }

  return {
    async acquire(digest, layers) {
      const hex = digest.replace(/^sha256:/, "");
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a sha256 digest: ${digest}`);
      let entry = entries.get(hex);
      if (!entry) {
        let flight = unpacking.get(hex);
        if (!flight) {
          flight = unpack(hex, layers);
          unpacking.set(hex, flight);
          flight.then(
            () => unpacking.delete(hex),
            () => unpacking.delete(hex),
          );
        }
        entry = await flight;
      }
      entry.users++;
      touch(entry);
      await evict();
      const held = entry;
      let released = false;
      return {
        root: join(opts.dir, hex),
        release() {
          if (released) return;
          released = true;
          held.users--;
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
