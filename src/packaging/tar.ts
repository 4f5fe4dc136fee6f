// Deterministic .tar.gz: the same entries give the same bytes on every server (docs/architecture.md, rule "An artifact, once served, never changes").
import { Buffer } from "node:buffer";
import { pipeline, Readable } from "node:stream";
import { constants, createGunzip, createGzip, gzipSync, type ZlibOptions } from "node:zlib";
import { extract, type Pack, pack } from "tar-stream";
import { Code, RegistryError } from "../core/errors.js";
import { readAll } from "../core/read-all.js";

export interface TarEntry {
  path: string;
  content: Uint8Array;
  executable?: boolean;
}

/**
 * The mtime of every entry. A constant, not "now", so that regenerating an artifact after a cache wipe gives
 * the same bytes (npm integrity and Go h1 hashes depend on it). Not the epoch: GNU tar warns about
 * "implausibly old time stamp" 1970 entries, and the same instant fits zip's DOS time (1980–2107) in every
 * time zone, so the zip packager can share it.
 */
export const FIXED_MTIME = new Date("2000-01-01T00:00:00Z");

/** gzip's OS byte for "unknown"; zlib writes the build platform's code (3 on Unix, 10 on Windows) otherwise. */
export const GZIP_OS_UNKNOWN = 255;

// Every knob that changes deflate's output is pinned, so a changed Node default cannot change our bytes.
const gzipOptions: ZlibOptions = {
  level: constants.Z_BEST_COMPRESSION,
  windowBits: 15,
  memLevel: 8,
  strategy: constants.Z_DEFAULT_STRATEGY,
};

/** Packs files (no directory entries) sorted by path in byte order, with fixed metadata; rejects duplicates. */
export function createTar(entries: readonly TarEntry[]): Promise<Buffer> {
  return readAll(packTar(entries));
}

function packTar(entries: readonly TarEntry[]): Pack {
  const sorted = entries
    .map((e) => ({ entry: e, key: Buffer.from(e.path, "utf8") }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  for (let i = 0; i < sorted.length; i++) {
    const path = sorted[i]?.entry.path ?? "";
    checkEntryPath(path);
    if (i > 0 && sorted[i - 1]?.entry.path === path) {
      throw new RegistryError(Code.InvalidArgument, `archive has two entries for "${path}"`);
    }
  }

  const packer = pack();
  for (const { entry } of sorted) {
    // tar-stream only takes a Buffer as the entry body; a plain Uint8Array would silently give an empty file.
    const body = Buffer.from(entry.content.buffer, entry.content.byteOffset, entry.content.byteLength);
    packer.entry(
      {
        name: entry.path,
        type: "file",
        size: body.byteLength,
        mode: entry.executable ? 0o755 : 0o644,
        mtime: FIXED_MTIME,
        uid: 0,
        gid: 0,
        uname: "",
        gname: "",
      },
      body,
    );
  }
  packer.finalize();
  return packer;
}

/**
 * createTar, then gzip with fixed settings and a platform-independent header. The tar streams into deflate, so the
 * uncompressed archive (37 MB of generated code for one large module) is never held whole; zlib's output does not
 * depend on how its input is chunked, so the bytes equal a one-shot gzip of the whole tar.
 */
export async function createTarGz(entries: readonly TarEntry[]): Promise<Uint8Array> {
  const deflate = createGzip(gzipOptions);
  pipeline(packTar(entries), deflate, () => {});
  const gz = await readAll(deflate);
  // Header layout (RFC 1952): ID1 ID2 CM FLG MTIME(4) XFL OS. zlib already writes MTIME 0 for in-memory data;
  // setting it again documents the invariant and guards against a zlib that does otherwise.
  gz.fill(0, 4, 8);
  gz[9] = GZIP_OS_UNKNOWN;
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

/** gzip of small bytes held whole (a .gem's metadata.gz), with the settings and header createTarGz uses. */
export function gzipDeterministic(bytes: Uint8Array): Uint8Array {
  const gz = gzipSync(bytes, gzipOptions);
  gz.fill(0, 4, 8);
  gz[9] = GZIP_OS_UNKNOWN;
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

/** Reads the regular files of a .tar.gz (directories, links and other entry types are skipped). */
export async function readTarGz(bytes: Uint8Array | Readable): Promise<TarEntry[]> {
  const source = bytes instanceof Uint8Array ? Readable.from([bytes]) : bytes;
  const extractor = extract();
  const gunzip = createGunzip();
  source.on("error", (err) => gunzip.destroy(err));
  gunzip.on("error", (err) => extractor.destroy(err));
  source.pipe(gunzip).pipe(extractor);

  const out: TarEntry[] = [];
  for await (const entry of extractor) {
    const content = new Uint8Array(await readAll(entry));
    const { name, type, mode } = entry.header;
    if (type !== "file" && type !== "contiguous-file") continue;
    const file: TarEntry = { path: name, content };
    if ((mode & 0o111) !== 0) file.executable = true;
    out.push(file);
  }
  return out;
}

// A last line of defence: callers validate paths with a better message, but an archive must never hold one
// that escapes the directory it is extracted into.
function checkEntryPath(path: string): void {
  const bad =
    path === "" ||
    path.startsWith("/") ||
    path.includes("\\") ||
    path.includes("\0") ||
    path.split("/").some((s) => s === "" || s === "." || s === "..");
  if (bad)
    throw new RegistryError(
      Code.InvalidArgument,
      `archive entry path "${path}" is not a clean relative path`,
    );
}
