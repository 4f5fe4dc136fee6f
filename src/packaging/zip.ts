// Deterministic zip archives (Go module zips, Python wheels): entries in the given order, one fixed time and mode.
import { Buffer } from "node:buffer";
import { ZipFile } from "yazl";
import { readAll } from "../core/read-all.js";
import { FIXED_MTIME } from "./tar.js";

export interface ZipEntry {
  path: string;
  content: Uint8Array;
}

/**
 * A zip of the entries in the order given (callers sort), no directory entries, deflated at level 9, mode 0644,
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
