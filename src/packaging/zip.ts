// Deterministic zip archives (Go module zips, Python wheels, jars): entries in the given order, one fixed time and mode.
import { Buffer } from "node:buffer";
import { ZipFile } from "yazl";
import { Code, RegistryError } from "../core/errors.js";
import { readAll } from "../core/read-all.js";
import { FIXED_MTIME } from "./tar.js";

export interface ZipEntry {
  path: string;
  content: Uint8Array;
}

/**
 * A zip of the entries in the order given (callers sort), deflated at level 9, mode 0644 (0755 for the directory
 * entries of paths ending in `/`, which only jars ask for),
 * and the fixed instant as DOS time only. yazl writes DOS time from *local* date fields, so the instant is rebuilt
 * from local fields to give the same bytes in every time zone, and the extended (UTC) timestamp field is left out.
 */
export async function createZip(entries: readonly ZipEntry[]): Promise<Uint8Array> {
  const zip = new ZipFile();
  const f = FIXED_MTIME;
  const mtime = new Date(
    f.getUTCFullYear(),
    f.getUTCMonth(),
    f.getUTCDate(),
    f.getUTCHours(),
    f.getUTCMinutes(),
    f.getUTCSeconds(),
  );
  for (const entry of entries) {
    // yazl refuses such a path with a plain Error; callers check their own paths first, this names the file if not.
    if (/^[a-zA-Z]:/.test(entry.path)) {
      throw new RegistryError(
        Code.Unprocessable,
        `file "${entry.path}" cannot be in a zip archive: unzip tools read "${entry.path.slice(0, 2)}" as a Windows drive`,
      );
    }
    // A directory entry (jars list them, so that class-path scanners find packages); never one with content.
    if (entry.path.endsWith("/") && entry.content.byteLength === 0) {
      zip.addEmptyDirectory(entry.path, { mtime, mode: 0o40755, forceDosTimestamp: true });
      continue;
    }
    zip.addBuffer(
      Buffer.from(entry.content.buffer, entry.content.byteOffset, entry.content.byteLength),
      entry.path,
      { mtime, mode: 0o100644, forceDosTimestamp: true, compressionLevel: 9 },
    );
  }
  const out = readAll(zip.outputStream);
  zip.end();
  const bytes = await out;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
