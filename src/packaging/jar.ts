// Deterministic .jar: the same class files give the same bytes on every server (docs/architecture.md, rule "An artifact, once served, never changes").
import { Buffer } from "node:buffer";
import { posix } from "node:path";
import { Code, RegistryError } from "../core/errors.js";
import { createZip } from "./zip.js";

export interface JarEntry {
  path: string;
  content: Uint8Array;
}

/** The manifest of every jar: fixed, so it never varies with the JDK, the server or the time. */
export const jarManifest = "Manifest-Version: 1.0\r\nCreated-By: protodepot\r\n\r\n";

/**
 * `META-INF/` and `META-INF/MANIFEST.MF` first (java.util.jar.JarInputStream finds the manifest only there), then
 * every directory and file in byte order, through the shared deterministic zip writer (one fixed DOS time in
 * every time zone, fixed modes, level-9 deflate).
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
  const empty = new Uint8Array();
  return createZip([
    { path: "META-INF/", content: empty },
    { path: "META-INF/MANIFEST.MF", content: new TextEncoder().encode(jarManifest) },
    ...[...dirs, ...files.keys()]
      .sort(byteOrder)
      .map((path) => ({ path, content: files.get(path) ?? empty })),
  ]);
}
