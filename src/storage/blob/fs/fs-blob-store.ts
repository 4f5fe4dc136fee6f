// The filesystem BlobStore: one file per key under root, written to tmp/ and renamed into place.
import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { type FileHandle, link, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { Code, RegistryError } from "../../../core/errors.js";
import type {
  BlobMaintenance,
  BlobOptions,
  BlobRead,
  BlobStat,
  BlobStore,
  Leftover,
  PutOptions,
  ReadOptions,
} from "../blob-store.js";
import { checkKey, checkPrefix, checkRange, clampRange } from "../keys.js";

const tmpDir = "tmp";
// Temp files older than this at open belong to a crashed writer; younger ones may be another process's write.
const staleTmpMs = 60 * 60 * 1000;
// Blobs hold private modules' files and generated code: only the server's user may read them, whatever the umask.
const fileMode = 0o600;
const dirMode = 0o700;

/** Throws InvalidArgument unless key is valid for every driver and outside tmp/. */
function checkFsKey(key: string): void {
  checkKey(key);
  if (key === tmpDir || key.startsWith(`${tmpDir}/`)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid blob key "${key}": tmp/ is reserved for in-flight writes`,
    );
  }
}

function errnoCode(reason: unknown): string | undefined {
  if (typeof reason !== "object" || reason === null) return undefined;
  const code = (reason as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** ENOENT, or ENOTDIR when a path segment is a file: either way the key is absent. */
function isMissing(reason: unknown): boolean {
  const code = errnoCode(reason);
  return code === "ENOENT" || code === "ENOTDIR";
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk);
  throw new RegistryError(Code.InvalidArgument, "blob body stream must yield bytes or strings");
}

async function fsyncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function removeStaleTmp(dir: string): Promise<void> {
  const cutoff = Date.now() - staleTmpMs;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs < cutoff) await unlink(path);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
}

async function statFile(path: string): Promise<BlobStat | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size } : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** Where a store keeps its files, and whether each write is flushed to disk before it counts. */
interface FsLayout {
  root: string;
  tmpRoot: string;
  fsync: boolean;
}

const pathOf = (at: FsLayout, key: string): string => join(at.root, ...key.split("/"));

async function writeTemp(
  at: FsLayout,
  tmp: string,
  body: Uint8Array | Readable,
  signal?: AbortSignal,
): Promise<number> {
  const handle = await open(tmp, "wx", fileMode);
  try {
    let size = 0;
    if (body instanceof Uint8Array) {
      await writeAll(handle, body);
      size = body.byteLength;
    } else {
      // Destroys the source on abort, which ends the loop below with the abort error.
      const source = signal ? addAbortSignal(signal, body) : body;
      for await (const chunk of source) {
        const bytes = toBytes(chunk);
        await writeAll(handle, bytes);
        size += bytes.byteLength;
      }
    }
    signal?.throwIfAborted();
    if (at.fsync) await handle.sync();
    return size;
  } finally {
    await handle.close();
  }
}

/** Moves a finished temp file to target; with ifAbsent an existing target wins and its stat is returned. */
async function publish(
  at: FsLayout,
  tmp: string,
  target: string,
  size: number,
  o?: PutOptions,
): Promise<BlobStat> {
  await mkdir(dirname(target), { recursive: true, mode: dirMode });
  o?.signal?.throwIfAborted();
  if (o?.ifAbsent) {
    // link() fails with EEXIST when another writer got there first: theirs stays, ours is dropped.
    try {
      await link(tmp, target);
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") throw err;
      await unlink(tmp);
      return (await statFile(target)) ?? { size };
    }
    await unlink(tmp);
  } else {
    await rename(tmp, target);
  }
  // The rename itself is durable only once the directory entry is flushed.
  if (at.fsync) await fsyncDir(dirname(target));
  return { size };
}

async function putBlob(
  at: FsLayout,
  key: string,
  body: Uint8Array | Readable,
  o?: PutOptions,
): Promise<BlobStat> {
  checkFsKey(key);
  o?.signal?.throwIfAborted();
  const target = pathOf(at, key);
  if (o?.ifAbsent) {
    const existing = await statFile(target);
    if (existing) {
      if (!(body instanceof Uint8Array) && !body.destroyed) body.destroy();
      return existing;
    }
  }
  const tmp = join(at.tmpRoot, randomBytes(12).toString("hex"));
  try {
    const size = await writeTemp(at, tmp, body, o?.signal);
    return await publish(at, tmp, target, size, o);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    // A body we never read from would otherwise stay open.
    if (!(body instanceof Uint8Array) && !body.destroyed) body.destroy();
    throw err;
  }
}

/** Opens key's file, or undefined when it is absent or a directory (a key prefix, not a blob). */
async function openFile(
  at: FsLayout,
  key: string,
): Promise<{ handle: FileHandle; size: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(pathOf(at, key), "r");
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  try {
    const s = await handle.stat();
    if (s.isFile()) return { handle, size: s.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
  await handle.close();
  return undefined;
}

async function getBlob(at: FsLayout, key: string, o?: BlobOptions): Promise<Readable | undefined> {
  checkFsKey(key);
  o?.signal?.throwIfAborted();
  const file = await openFile(at, key);
  if (!file) return undefined;
  // Aborted while opening: a stream made now would fail before anyone listens to it, and crash the process.
  if (o?.signal?.aborted) {
    await file.handle.close();
    o.signal.throwIfAborted();
  }
  const stream = file.handle.createReadStream();
  return o?.signal ? addAbortSignal(o.signal, stream) : stream;
}

async function readBlob(at: FsLayout, key: string, o?: ReadOptions): Promise<BlobRead | undefined> {
  checkFsKey(key);
  if (o?.range) checkRange(o.range);
  o?.signal?.throwIfAborted();
  const file = await openFile(at, key);
  if (!file) return undefined;
  const { start, end } = clampRange(o?.range, file.size);
  // Aborted while opening: a stream made now would fail before anyone listens to it, and crash the process.
  if (o?.signal?.aborted) {
    await file.handle.close();
    o.signal.throwIfAborted();
  }
  const stream = file.handle.createReadStream({ start, end: Math.max(end, start) });
  return {
    stream: o?.signal ? addAbortSignal(o.signal, stream) : stream,
    size: file.size,
    length: end - start + 1,
  };
}

async function* listKeys(at: FsLayout, prefix: string, o?: BlobOptions): AsyncIterable<string> {
  checkPrefix(prefix);
  // Walk only the deepest directory the prefix names, then filter by the rest of it.
  const slash = prefix.lastIndexOf("/");
  const startDir = slash < 0 ? "" : prefix.slice(0, slash);
  const pending = [startDir];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    o?.signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = await readdir(dir === "" ? at.root : pathOf(at, dir), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) continue;
      throw err;
    }
    for (const entry of entries) {
      const key = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (dir === "" && entry.name === tmpDir) continue;
      if (entry.isDirectory()) {
        if (key.startsWith(prefix)) pending.push(key);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        yield key;
      }
    }
  }
}

async function modifiedAt(at: FsLayout, key: string, o?: BlobOptions): Promise<number | undefined> {
  checkFsKey(key);
  o?.signal?.throwIfAborted();
  try {
    const s = await stat(pathOf(at, key));
    return s.isFile() ? s.mtimeMs : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

async function* listLeftovers(at: FsLayout, o?: BlobOptions): AsyncIterable<Leftover> {
  for (const name of await readdir(at.tmpRoot)) {
    o?.signal?.throwIfAborted();
    try {
      yield { id: name, modifiedAt: (await stat(join(at.tmpRoot, name))).mtimeMs };
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
}

/** Unlinks path; a file already gone is what was asked for. */
async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

export async function createFsBlobStore(opts: {
  root: string;
  fsync: boolean;
}): Promise<BlobStore & BlobMaintenance> {
  const at: FsLayout = { root: opts.root, tmpRoot: join(opts.root, tmpDir), fsync: opts.fsync };
  await mkdir(at.tmpRoot, { recursive: true, mode: dirMode });
  await removeStaleTmp(at.tmpRoot);
  return {
    put: (key, body, o) => putBlob(at, key, body, o),
    get: (key, o) => getBlob(at, key, o),
    read: (key, o) => readBlob(at, key, o),
    async stat(key, o) {
      checkFsKey(key);
      o?.signal?.throwIfAborted();
      return statFile(pathOf(at, key));
    },
    list: (prefix, o) => listKeys(at, prefix, o),
    modifiedAt: (key, o) => modifiedAt(at, key, o),
    listLeftovers: (o) => listLeftovers(at, o),
    async removeLeftover(id, o) {
      // Temp names are ours (random hex); anything else is not a leftover of this store.
      if (!/^[0-9a-f]+$/.test(id))
        throw new RegistryError(Code.InvalidArgument, `not a temp file name: ${id}`);
      o?.signal?.throwIfAborted();
      await unlinkIfPresent(join(at.tmpRoot, id));
    },
    async delete(key, o) {
      checkFsKey(key);
      o?.signal?.throwIfAborted();
      await unlinkIfPresent(pathOf(at, key));
    },
  };
}
