// Unpacks image layers into one root filesystem, treating every layer as hostile: nothing lands outside the root.
import {
  constants,
  createWriteStream,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as createExtract, type Extract, type Header } from "tar-stream";

type Source = Extract extends AsyncIterable<infer S> ? S : never;

export interface UnpackLimits {
  /** Uncompressed bytes of file content, over all layers. */
  maxBytes: number;
  /** Entries, over all layers. */
  maxEntries: number;
}

/** A layer that may not be unpacked; the message says which entry and why. */
export class LayerError extends Error {
  override readonly name = "LayerError";
}

export interface UnpackState {
  bytes: number;
  entries: number;
}

const maxNameBytes = 4096;
const maxSymlinkHops = 40;

/**
 * Applies one layer (tar, or gzip-compressed tar; detected by magic bytes) on top of `root`. Names are relative to
 * the root; `..` components and absolute names are refused; a symlink in the middle of a path resolves inside the
 * root and the last component is never followed; hard links point only at regular files already inside; whiteouts
 * (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) remove what lower layers made; devices and FIFOs are skipped;
 * modes become 0644/0755 (no setuid, setgid or sticky bits).
 */
export async function applyLayer(
  root: string,
  layer: Readable,
  limits: UnpackLimits,
  state: UnpackState,
): Promise<void> {
  const { kind, stream } = await sniff(layer);
  if (kind === "zstd") {
    layer.destroy();
    throw new LayerError(
      "zstd-compressed layers are not supported: push the image with gzip layers (e.g. buildah push --compression-format gzip)",
    );
  }
  const extract = createExtract();
  const source = kind === "gzip" ? stream.pipe(createGunzip()) : stream;
  const done = (async () => {
    for await (const entry of extract) {
      state.entries++;
      if (state.entries > limits.maxEntries) {
        throw new LayerError(`the image has more than ${limits.maxEntries} layer entries`);
      }
      await applyEntry(root, entry, limits, state);
    }
  })();
  // Either side may fail first: a bad gzip stream, or a hostile entry that stops the loop.
  const fed = pipeline(source, extract).catch((err: unknown) => {
    throw err instanceof LayerError
      ? err
      : new LayerError(`the layer is not a valid tar archive: ${message(err)}`);
  });
  try {
    await Promise.all([done, fed]);
  } catch (err) {
    extract.destroy();
    layer.destroy();
    source.destroy();
    // Settle the other side before reporting, so nothing writes into the root afterwards.
    await Promise.allSettled([done, fed]);
    throw err instanceof LayerError ? err : new LayerError(message(err));
  }
}

/** Creates what bwrap mounts over (/tmp, /proc, /dev) as plain directories. */
export function finishRoot(root: string): void {
  for (const dir of ["tmp", "proc", "dev"]) {
    const path = join(root, dir);
    const st = lstatOrUndefined(path);
    if (st?.isDirectory()) continue;
    if (st) rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { mode: 0o755 });
  }
}

async function applyEntry(
  root: string,
  entry: Source,
  limits: UnpackLimits,
  state: UnpackState,
): Promise<void> {
  const header: Header = entry.header;
  const parts = components(header.name);
  const drain = () => entry.resume();
  if (parts.length === 0) {
    // The root itself ("./"): its mode is ours to choose.
    drain();
    return;
  }
  const base = parts[parts.length - 1] as string;
  const parent = resolveDir(root, parts.slice(0, -1), true);

  if (base === ".wh..wh..opq") {
    for (const name of readdirSync(parent)) rmSync(join(parent, name), { recursive: true, force: true });
    drain();
    return;
  }
  if (base.startsWith(".wh.")) {
    const target = base.slice(4);
    if (target === "" || target === "." || target === ".." || target.includes("/")) {
      throw new LayerError(
        `layer entry ${header.name} whites out "${target}", which is not a name in its directory`,
      );
    }
    rmSync(join(parent, target), { recursive: true, force: true });
    drain();
    return;
  }

  const path = join(parent, base);
  const existing = lstatOrUndefined(path);
  switch (header.type) {
    case "directory": {
      if (existing && !existing.isDirectory()) rmSync(path, { recursive: true, force: true });
      if (!existing?.isDirectory()) mkdirSync(path, { mode: 0o755 });
      drain();
      return;
    }
    case "file":
    case "contiguous-file": {
      if (existing) rmSync(path, { recursive: true, force: true });
      const size = header.size ?? 0;
      if (state.bytes + size > limits.maxBytes) {
        throw new LayerError(`the image expands to more than ${limits.maxBytes} bytes (at ${header.name})`);
      }
      const mode = ((header.mode ?? 0o644) & 0o111) !== 0 ? 0o755 : 0o644;
      // O_EXCL|O_NOFOLLOW: a symlink planted at this name (we just removed it) can never redirect the write.
      const fd = openSync(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        mode,
      );
      let written = 0;
      const counter = new PassThrough({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (written > size) cb(new LayerError(`layer entry ${header.name} is longer than its header says`));
          else cb(null, chunk);
        },
      });
      await pipeline(entry, counter, createWriteStream("", { fd, autoClose: true }));
      state.bytes += written;
      return;
    }
    case "symlink": {
      if (existing) rmSync(path, { recursive: true, force: true });
      const target = header.linkname ?? "";
      if (target === "" || target.length > maxNameBytes || target.includes("\0")) {
        throw new LayerError(`layer entry ${header.name} is a symlink with an invalid target`);
      }
      // The target is stored as written: it is only ever resolved inside the root (here, and in the sandbox).
      symlinkSync(target, path);
      drain();
      return;
    }
    case "link": {
      const targetParts = components(header.linkname ?? "");
      if (targetParts.length === 0)
        throw new LayerError(`layer entry ${header.name} is a hard link to nothing`);
      const targetPath = join(
        resolveDir(root, targetParts.slice(0, -1), false),
        targetParts[targetParts.length - 1] as string,
      );
      const st = lstatOrUndefined(targetPath);
      if (!st?.isFile()) {
        throw new LayerError(
          `layer entry ${header.name} is a hard link to ${header.linkname}, which is not a regular file in the image`,
        );
      }
      if (existing) rmSync(path, { recursive: true, force: true });
      linkSync(targetPath, path);
      drain();
      return;
    }
    default:
      // Character and block devices, FIFOs, and anything else: never created.
      drain();
  }
}

/** `./usr//bin/x` → ["usr", "bin", "x"]; `..` and absolute names are refused. */
function components(name: string): string[] {
  if (name.length > maxNameBytes || name.includes("\0"))
    throw new LayerError("layer entry with an invalid name");
  if (name.startsWith("/")) {
    throw new LayerError(
      `layer entry ${name} has an absolute name; entries must be relative to the image root`,
    );
  }
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes(".."))
    throw new LayerError(`layer entry ${name} climbs out of the image root with ".."`);
  return parts;
}

/**
 * The host path of directory `parts` inside `root`, following symlinks as the sandbox would see them: an absolute
 * target restarts at the root, `..` never climbs above it. With `create`, missing directories are made.
 */
function resolveDir(root: string, parts: readonly string[], create: boolean): string {
  const stack: string[] = [];
  const pending = [...parts];
  let hops = 0;
  while (pending.length) {
    const part = pending.shift() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      stack.pop();
      continue;
    }
    const path = join(root, ...stack, part);
    const st = lstatOrUndefined(path);
    if (st?.isSymbolicLink()) {
      if (++hops > maxSymlinkHops) throw new LayerError(`too many symlinks resolving ${parts.join("/")}`);
      const target = readlinkSync(path);
      if (target.startsWith("/")) stack.length = 0;
      pending.unshift(...target.split("/"));
      continue;
    }
    if (!st) {
      if (!create) throw new LayerError(`${parts.join("/")} does not exist in the image`);
      mkdirSync(path, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      throw new LayerError(`${parts.join("/")} is not a directory in the image`);
    }
    stack.push(part);
  }
  return join(root, ...stack);
}

/** Reads the first chunk to tell gzip and zstd from a plain tar; the returned stream still starts with it. */
async function sniff(layer: Readable): Promise<{ kind: "gzip" | "zstd" | "tar"; stream: Readable }> {
  const chunks = layer[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await chunks.next();
  const first = head.done ? Buffer.alloc(0) : Buffer.from(head.value);
  async function* all() {
    if (first.length) yield first;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  const kind =
    first[0] === 0x1f && first[1] === 0x8b
      ? "gzip"
      : first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd
        ? "zstd"
        : "tar";
  return { kind, stream: Readable.from(all(), { objectMode: false }) };
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
