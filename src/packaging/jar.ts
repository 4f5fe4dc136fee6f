// Deterministic .jar: the same class files give the same bytes on every server (DESIGN.md invariant 2).
import { Buffer } from "node:buffer";
import { posix } from "node:path";
import { buffer } from "node:stream/consumers";
import { ZipFile } from "yazl";
import { Code, RegistryError } from "../core/errors.js";
import { FIXED_MTIME } from "./tar.js";

export interface JarEntry {
  path: string;
  content: Uint8Array;
}

/** The manifest of every jar: fixed, so it never varies with the JDK, the server or the time. */
export const jarManifest = "Manifest-Version: 1.0\r\nCreated-By: protodepot\r\n\r\n";

/**
 * `META-INF/` and `META-INF/MANIFEST.MF` first (java.util.jar.JarInputStream finds the manifest only there), then
 * every directory and file in byte order, with one fixed time, fixed modes and level-9 deflate. yazl writes the DOS
 * time from *local* date fields, so the fixed instant is rebuilt from local fields (the same bytes in every time
 * zone) and the extended UTC timestamp field is left out, as for Go module zips.
 */
export async function createJar(entries: readonly JarEntry[]): Promise<Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>();
  for (const e of entries) {
    if (
      e.path === "" ||
      e.path.startsWith("/") ||
      posix.normalize(e.path) !== e.path ||
      e.path.endsWith("/") ||
      e.path.split("/").includes("..") ||
      e.path.includes("\0")
    ) {
      throw new RegistryError(
        Code.Unprocessable,
        `"${e.path}" cannot be a jar entry: not a clean relative path`,
      );
    }
    if (e.path.toUpperCase().startsWith("META-INF/")) {
      throw new RegistryError(
        Code.Unprocessable,
        `"${e.path}" cannot be a jar entry: META-INF/ is the registry's`,
      );
    }
    if (files.has(e.path)) throw new RegistryError(Code.Unprocessable, `jar entry "${e.path}" appears twice`);
    files.set(e.path, e.content);
    for (let d = posix.dirname(e.path); d !== "."; d = posix.dirname(d)) dirs.add(`${d}/`);
  }
  for (const d of dirs) {
    if (files.has(d.slice(0, -1))) {
      throw new RegistryError(
        Code.Unprocessable,
        `jar entry "${d.slice(0, -1)}" is both a file and a directory`,
      );
    }
  }
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
  const names = [...dirs, ...files.keys()].sort(byteOrder);

  const f = FIXED_MTIME;
  const mtime = new Date(
    f.getUTCFullYear(),
    f.getUTCMonth(),
    f.getUTCDate(),
    f.getUTCHours(),
    f.getUTCMinutes(),
    f.getUTCSeconds(),
  );
  const zip = new ZipFile();
  zip.addEmptyDirectory("META-INF/", { mtime, mode: 0o40755, forceDosTimestamp: true });
  zip.addBuffer(Buffer.from(jarManifest, "utf8"), "META-INF/MANIFEST.MF", {
    mtime,
    mode: 0o100644,
    forceDosTimestamp: true,
    compressionLevel: 9,
  });
  for (const name of names) {
    const content = files.get(name);
    if (content === undefined) {
      zip.addEmptyDirectory(name, { mtime, mode: 0o40755, forceDosTimestamp: true });
      continue;
    }
    zip.addBuffer(Buffer.from(content.buffer, content.byteOffset, content.byteLength), name, {
      mtime,
      mode: 0o100644,
      forceDosTimestamp: true,
      compressionLevel: 9,
    });
  }
  const out = buffer(zip.outputStream);
  zip.end();
  const bytes = await out;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
