// Unpacks image layers into one root filesystem, treating every layer as hostile: nothing lands outside the root,
// nothing past the tar's end-of-archive is decompressed, and every entry costs disk blocks against the cap.
import { constants, lstatSync, mkdirSync, rmSync } from "node:fs";
import { link, lstat, mkdir, open, readdir, readlink, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as createExtract, type Extract, type Header } from "tar-stream";

type Source = Extract extends AsyncIterable<infer S> ? S : never;

export interface UnpackLimits {
  /**
   * Disk bytes of the unpacked root, over all layers: every entry (directory, link, file, whiteout) costs one
   * block, and a file's content its size rounded up to blocks, so the count matches `du` of the root. The
   * decompressed tar stream itself (headers included) is held to the same cap.
   */
  maxBytes: number;
  /** Entries, over all layers. */
  maxEntries: number;
  /** The filesystem's block size (statfs); 4096 when not given. */
  blockSize?: number;
  /** Aborts the unpack (its deadline); the error says why. */
  signal?: AbortSignal;
}

/** A layer that may not be unpacked; the message says which entry and why. */
export class LayerError extends Error {
  override readonly name = "LayerError";
}

export interface UnpackState {
  /** Disk bytes counted so far (see UnpackLimits.maxBytes). */
  bytes: number;
  entries: number;
  /** Decompressed tar bytes read so far, over all layers. */
  tarBytes?: number;
}

const maxNameBytes = 4096;
const tarBlock = 512;
/** Longest stretch of synchronous unpacking before other work gets the event loop. */
const yieldEveryMs = 2;
/** Largest pax extended header we read (tar-stream refuses more too). */
const maxPaxBytes = 1 << 20;
const maxSymlinkHops = 40;

/**
 * Applies one layer (tar, or gzip-compressed tar; detected by magic bytes) on top of `root`. Names are relative to
 * the root; `..` components and absolute names are refused; a symlink in the middle of a path resolves inside the
 * root and the last component is never followed; hard links point only at regular files already inside; whiteouts
 * (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) remove what lower layers made; devices and FIFOs are skipped;
 * modes become 0644/0755 (no setuid, setgid or sticky bits). Reading stops at the tar's end-of-archive (the first
 * zero block, as GNU tar and Go's archive/tar do): what follows is read raw to the end of the layer (so a verifying
 * stream sees every byte) but never decompressed.
 */
export async function applyLayer(
  root: string,
  layer: Readable,
  limits: UnpackLimits,
  state: UnpackState,
): Promise<void> {
  const signal = limits.signal;
  const stopped = () => (signal?.aborted ? new LayerError(reasonOf(signal)) : undefined);
  const early = stopped();
  if (early) {
    layer.destroy();
    throw early;
  }
  const { kind, stream } = await sniff(layer);
  if (kind === "zstd") {
    layer.destroy();
    throw new LayerError(
      "zstd-compressed layers are not supported: push the image with gzip layers (e.g. buildah push --compression-format gzip)",
    );
  }
  const extract = createExtract();
  const gunzip = kind === "gzip" ? createGunzip() : undefined;
  const tar: Readable = gunzip ? stream.pipe(gunzip) : stream;
  const destroyAll = (err?: Error) => {
    extract.destroy(err);
    gunzip?.destroy(err);
    stream.destroy(err);
  };
  const onAbort = () => destroyAll(stopped() ?? new LayerError("unpacking was aborted"));
  signal?.addEventListener("abort", onAbort, { once: true });
  const done = applyEntries(root, extract, limits, state, stopped);
  // Either side may fail first: a bad gzip stream, or a hostile entry that stops the loop.
  const fed = pipeline(tarUntilEnd(tar, limits, state), extract).catch((err: unknown) => {
    throw err instanceof LayerError
      ? err
      : (stopped() ?? new LayerError(`the layer is not a valid tar archive: ${message(err)}`));
  });
  const deadline = abortDeadline(signal, stopped);
  try {
    await Promise.race([Promise.all([done, fed]), deadline.fired]);
    // The rest of the layer, compressed: read (a verifying stream below sees all of it), never inflated.
    if (gunzip) {
      stream.unpipe(gunzip);
      gunzip.destroy();
    }
    await Promise.race([drainRest(stream, stopped), deadline.fired]);
  } catch (err) {
    destroyAll();
    layer.destroy();
    // Settle the other side before reporting, so nothing writes into the root afterwards.
    const [d, f] = signal?.aborted ? [undefined, undefined] : await Promise.allSettled([done, fed]);
    // A hostile entry's own error first, then the stream's (wrapped by `fed`), then whatever came.
    const reason =
      d?.status === "rejected" && d.reason instanceof LayerError
        ? d.reason
        : f?.status === "rejected"
          ? f.reason
          : err;
    throw reason instanceof LayerError ? reason : (stopped() ?? new LayerError(message(reason)));
  } finally {
    deadline.cancel();
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The tar stream up to its end-of-archive, counted against the image's byte limit. */
async function* tarUntilEnd(tar: Readable, limits: UnpackLimits, state: UnpackState): AsyncGenerator<Buffer> {
  const scanner = createTarEndScanner();
  // Leaving this loop must not destroy a plain tar's stream: its rest is still read afterwards.
  for await (const chunk of tar.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    const { take, ended } = scanner.scan(chunk);
    state.tarBytes = (state.tarBytes ?? 0) + take;
    if (state.tarBytes > limits.maxBytes) {
      throw new LayerError(`the image expands to more than ${limits.maxBytes} bytes of tar stream`);
    }
    if (take > 0) yield take === chunk.length ? chunk : chunk.subarray(0, take);
    if (ended) return;
  }
}

/** Applies every entry the extractor yields, counting them and yielding the event loop every few ms. */
async function applyEntries(
  root: string,
  extract: Extract,
  limits: UnpackLimits,
  state: UnpackState,
  stopped: () => LayerError | undefined,
): Promise<void> {
  let since = performance.now();
  for await (const entry of extract) {
    // Entries are applied with synchronous file system calls: give other requests the event loop every few ms,
    // so a layer of 100,000 tiny entries cannot hold it.
    if (performance.now() - since > yieldEveryMs) {
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
    state.entries++;
    if (state.entries > limits.maxEntries) {
      throw new LayerError(`the image has more than ${limits.maxEntries} layer entries`);
    }
    const err = stopped();
    if (err) throw err;
    await applyEntry(root, entry, limits, state);
  }
}

/** Reads what is left of a stream, checking the deadline between chunks. */
async function drainRest(stream: Readable, stopped: () => LayerError | undefined): Promise<void> {
  for await (const _ of stream) {
    const err = stopped();
    if (err) throw err;
  }
}

/** A promise that rejects when the signal fires, so a wait ends even when a stalled source never settles. */
function abortDeadline(
  signal: AbortSignal | undefined,
  stopped: () => LayerError | undefined,
): { fired: Promise<never>; cancel(): void } {
  let cancel = () => {};
  const fired = new Promise<never>((_, reject) => {
    const fire = () => reject(stopped() ?? new LayerError("unpacking was aborted"));
    signal?.addEventListener("abort", fire, { once: true });
    cancel = () => signal?.removeEventListener("abort", fire);
  });
  fired.catch(() => undefined);
  return { fired, cancel };
}

function reasonOf(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === "string" ? r : "unpacking was aborted";
}

/** Size field of a tar header: octal ASCII, or base-256 when its first byte has the high bit set. */
function headerSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    let n = (field[0] ?? 0) & 0x7f;
    for (let k = 1; k < field.length; k++) n = n * 256 + (field[k] ?? 0);
    if (!Number.isSafeInteger(n)) throw new LayerError("a tar header has an impossible size");
    return n;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new LayerError("a tar header has an invalid size field");
  return Number.parseInt(text, 8);
}

/**
 * Follows the block structure of a tar stream (each header, then its data padded to 512 bytes; a pax header's
 * `size=` record overrides the next header's size) to find its end-of-archive: the first all-zero header block.
 */
export function createTarEndScanner(): { scan(chunk: Buffer): { take: number; ended: boolean } } {
  const header = Buffer.alloc(tarBlock);
  let have = 0;
  /** Data bytes (padded) of the current entry still to pass. */
  let skip = 0;
  /** A pax header's data, collected to read its size record. */
  let pax: Buffer[] | undefined;
  let paxLeft = 0;
  let sizeOverride: number | undefined;
  return {
    scan(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          if (pax && paxLeft > 0) {
            const part = chunk.subarray(i, i + Math.min(n, paxLeft));
            pax.push(Buffer.from(part));
            paxLeft -= part.length;
          }
          skip -= n;
          i += n;
          if (skip === 0 && pax) {
            sizeOverride = paxSize(Buffer.concat(pax)) ?? sizeOverride;
            pax = undefined;
          }
          continue;
        }
        const n = Math.min(tarBlock - have, chunk.length - i);
        chunk.copy(header, have, i, i + n);
        have += n;
        i += n;
        if (have < tarBlock) break;
        have = 0;
        if (header.every((b) => b === 0)) return { take: i, ended: true };
        const type = String.fromCharCode(header[156] ?? 0);
        let size = headerSize(header);
        if (type === "x") {
          if (size > maxPaxBytes) throw new LayerError("a pax header of the layer is larger than 1 MiB");
          pax = [];
          paxLeft = size;
        } else if (type !== "g" && type !== "L" && type !== "K") {
          if (sizeOverride !== undefined) size = sizeOverride;
          sizeOverride = undefined;
        }
        // As tar-stream reads it: a directory (typeflag 5, or an old-style file whose name ends in "/") has no data.
        if (type === "5" || ((type === "0" || type === "\0") && endsWithSlash(header))) size = 0;
        skip = Math.ceil(size / tarBlock) * tarBlock;
        if (skip === 0 && pax) {
          sizeOverride = undefined;
          pax = undefined;
        }
      }
      return { take: chunk.length, ended: false };
    },
  };
}

/** Whether a header's name field (NUL-terminated, at most 100 bytes) ends in "/". */
function endsWithSlash(header: Buffer): boolean {
  const nul = header.indexOf(0);
  const end = nul < 0 || nul > 100 ? 100 : nul;
  return end > 0 && header[end - 1] === 0x2f;
}

/** The `size` record of pax extended header data (`LEN size=N\n` records), if any. */
function paxSize(data: Buffer): number | undefined {
  let found: number | undefined;
  for (const line of data.toString("utf8").split("\n")) {
    const m = /^\d+ size=(\d+)$/.exec(line);
    if (m?.[1]) found = Number(m[1]);
  }
  return found;
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

/** Counts an entry's disk cost against the limit before anything is written; returns its content size. */
function chargeEntry(header: Header, limits: UnpackLimits, state: UnpackState): number {
  // Every entry costs a block (an inode's directory entry, a directory's block; links are counted as if they had
  // one, which errs on the safe side), a file its content rounded up to blocks, before anything is written.
  const block = limits.blockSize ?? 4096;
  const size = header.type === "file" || header.type === "contiguous-file" ? (header.size ?? 0) : 0;
  const cost = block + Math.ceil(size / block) * block;
  if (state.bytes + cost > limits.maxBytes) {
    throw new LayerError(
      `the image expands to more than ${limits.maxBytes} bytes on disk (at ${header.name}, entry ${state.entries})`,
    );
  }
  state.bytes += cost;
  return size;
}

/** Applies a whiteout or an opaque marker; false when `base` is neither. */
async function applyWhiteout(parent: string, base: string, header: Header): Promise<boolean> {
  if (base === ".wh..wh..opq") {
    for (const name of await readdir(parent)) await rm(join(parent, name), { recursive: true, force: true });
    return true;
  }
  if (!base.startsWith(".wh.")) return false;
  const target = base.slice(4);
  if (target === "" || target === "." || target === ".." || target.includes("/")) {
    throw new LayerError(
      `layer entry ${header.name} whites out "${target}", which is not a name in its directory`,
    );
  }
  await rm(join(parent, target), { recursive: true, force: true });
  return true;
}

/** Writes a regular file's content, refusing more bytes than its header announced. */
async function writeFileEntry(path: string, entry: Source, header: Header, size: number): Promise<void> {
  const mode = ((header.mode ?? 0o644) & 0o111) !== 0 ? 0o755 : 0o644;
  // O_EXCL|O_NOFOLLOW: a symlink planted at this name (the caller removed it) can never redirect the write.
  const handle = await open(
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
  await pipeline(entry, counter, handle.createWriteStream({ autoClose: true }));
}

/** A hard link, only to a regular file already inside the root. */
async function linkEntry(root: string, path: string, header: Header, existing: boolean): Promise<void> {
  const targetParts = components(header.linkname ?? "");
  if (targetParts.length === 0) throw new LayerError(`layer entry ${header.name} is a hard link to nothing`);
  const targetPath = join(
    await resolveDir(root, targetParts.slice(0, -1), false),
    targetParts[targetParts.length - 1] as string,
  );
  const st = await lstatAsync(targetPath);
  if (!st?.isFile()) {
    throw new LayerError(
      `layer entry ${header.name} is a hard link to ${header.linkname}, which is not a regular file in the image`,
    );
  }
  if (existing) await rm(path, { recursive: true, force: true });
  await link(targetPath, path);
}

async function applyEntry(
  root: string,
  entry: Source,
  limits: UnpackLimits,
  state: UnpackState,
): Promise<void> {
  const header: Header = entry.header;
  const parts = components(header.name);
  const size = chargeEntry(header, limits, state);
  const base = parts[parts.length - 1];
  // The root itself ("./"): its mode is ours to choose.
  if (base === undefined) return void entry.resume();
  const parent = await resolveDir(root, parts.slice(0, -1), true);
  if (await applyWhiteout(parent, base, header)) return void entry.resume();
  const path = join(parent, base);
  const existing = await lstatAsync(path);
  switch (header.type) {
    case "directory":
      if (existing && !existing.isDirectory()) await rm(path, { recursive: true, force: true });
      if (!existing?.isDirectory()) await mkdir(path, { mode: 0o755 });
      break;
    case "file":
    case "contiguous-file":
      if (existing) await rm(path, { recursive: true, force: true });
      return writeFileEntry(path, entry, header, size);
    case "symlink": {
      if (existing) await rm(path, { recursive: true, force: true });
      const target = header.linkname ?? "";
      if (target === "" || target.length > maxNameBytes || target.includes("\0")) {
        throw new LayerError(`layer entry ${header.name} is a symlink with an invalid target`);
      }
      // The target is stored as written: it is only ever resolved inside the root (here, and in the sandbox).
      await symlink(target, path);
      break;
    }
    case "link":
      await linkEntry(root, path, header, existing !== undefined);
      break;
    default:
    // Character and block devices, FIFOs, and anything else: never created.
  }
  entry.resume();
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
async function resolveDir(root: string, parts: readonly string[], create: boolean): Promise<string> {
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
    const st = await lstatAsync(path);
    if (st?.isSymbolicLink()) {
      if (++hops > maxSymlinkHops) throw new LayerError(`too many symlinks resolving ${parts.join("/")}`);
      const target = await readlink(path);
      if (target.startsWith("/")) stack.length = 0;
      pending.unshift(...target.split("/"));
      continue;
    }
    if (!st) {
      if (!create) throw new LayerError(`${parts.join("/")} does not exist in the image`);
      await mkdir(path, { mode: 0o755 });
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

/** lstat off the event loop (the thread pool): an unpack makes several per entry. */
async function lstatAsync(path: string) {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
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
