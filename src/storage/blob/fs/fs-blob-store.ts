// The filesystem BlobStore: one file per key under root, written to tmp/ and renamed into place.
import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { Code, RegistryError } from "../../../core/errors.js";
import type { BlobOptions, BlobStat, BlobStore } from "../blob-store.js";

const tmpDir = "tmp";
// Temp files older than this at open belong to a crashed writer; younger ones may be another process's write.
const staleTmpMs = 60 * 60 * 1000;
const segmentPattern = /^[A-Za-z0-9._-]+$/;
// Blobs hold private modules' files and generated code: only the server's user may read them, whatever the umask.
const fileMode = 0o600;
const dirMode = 0o700;

function validSegments(value: string): boolean {
  return value.split("/").every((s) => segmentPattern.test(s) && s !== "." && s !== "..");
}

/** Throws InvalidArgument unless key is a relative "/"-separated path of safe segments outside tmp/. */
function checkKey(key: string): void {
  if (!validSegments(key)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid blob key "${key}": use "/"-separated segments of letters, digits, ".", "_" or "-", without "." or ".."`,
    );
  }
  if (key === tmpDir || key.startsWith(`${tmpDir}/`)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid blob key "${key}": tmp/ is reserved for in-flight writes`,
    );
  }
}

/** A prefix is any start of a valid key: "" or a key, optionally ending in "/". */
function checkPrefix(prefix: string): void {
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (body !== "" && !validSegments(body)) {
    throw new RegistryError(Code.InvalidArgument, `invalid blob key prefix "${prefix}"`);
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

export async function createFsBlobStore(opts: { root: string; fsync: boolean }): Promise<BlobStore> {
  const { root, fsync } = opts;
  const tmpRoot = join(root, tmpDir);
  await mkdir(tmpRoot, { recursive: true, mode: dirMode });
  await removeStaleTmp(tmpRoot);

  const pathOf = (key: string): string => join(root, ...key.split("/"));

  async function writeTemp(tmp: string, body: Uint8Array | Readable, signal?: AbortSignal): Promise<number> {
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
      if (fsync) await handle.sync();
      return size;
    } finally {
      await handle.close();
    }
  }

  return {
    async put(key: string, body: Uint8Array | Readable, o?: BlobOptions): Promise<BlobStat> {
      checkKey(key);
      o?.signal?.throwIfAborted();
      const tmp = join(tmpRoot, randomBytes(12).toString("hex"));
      try {
        const size = await writeTemp(tmp, body, o?.signal);
        const target = pathOf(key);
        await mkdir(dirname(target), { recursive: true, mode: dirMode });
        o?.signal?.throwIfAborted();
        await rename(tmp, target);
        // The rename itself is durable only once the directory entry is flushed.
        if (fsync) await fsyncDir(dirname(target));
        return { size };
      } catch (err) {
        await unlink(tmp).catch(() => {});
        // A body we never read from would otherwise stay open.
        if (!(body instanceof Uint8Array) && !body.destroyed) body.destroy();
        throw err;
      }
    },

    async get(key: string, o?: BlobOptions): Promise<Readable | undefined> {
      checkKey(key);
      o?.signal?.throwIfAborted();
      let handle: FileHandle;
      try {
        handle = await open(pathOf(key), "r");
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      // A directory opens fine on Linux but is a key prefix, not a blob.
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        return undefined;
      }
      const stream = handle.createReadStream();
      return o?.signal ? addAbortSignal(o.signal, stream) : stream;
    },

    async stat(key: string, o?: BlobOptions): Promise<BlobStat | undefined> {
      checkKey(key);
      o?.signal?.throwIfAborted();
      try {
        const s = await stat(pathOf(key));
        return s.isFile() ? { size: s.size } : undefined;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async *list(prefix: string, o?: BlobOptions): AsyncIterable<string> {
      checkPrefix(prefix);
      // Walk only the deepest directory the prefix names, then filter by the rest of it.
      const slash = prefix.lastIndexOf("/");
      const startDir = slash < 0 ? "" : prefix.slice(0, slash);
      const pending = [startDir];
      for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
        o?.signal?.throwIfAborted();
        let entries: Dirent[];
        try {
          entries = await readdir(dir === "" ? root : pathOf(dir), { withFileTypes: true });
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
    },

    async delete(key: string, o?: BlobOptions): Promise<void> {
      checkKey(key);
      o?.signal?.throwIfAborted();
      try {
        await unlink(pathOf(key));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    },
  };
}
