// buf's b5 module digest, which the buf CLI checks after every download, and the file set and dependency set
// it is computed over. Pure functions: the caller brings the files.
import { createHash } from "node:crypto";
import { digestYielding } from "../core/hashing.js";
import { protoImports } from "../core/proto-imports.js";

export interface DigestFile {
  path: string;
  content: Uint8Array;
}

/** buf reads one documentation file, the first of these that exists. */
const docFiles = ["buf.md", "README.md", "README.markdown"];

/** The files buf digests and downloads: every .proto, LICENSE, and the first documentation file. */
export function b5Files<T extends DigestFile>(files: readonly T[]): T[] {
  const doc = docFiles.map((name) => files.find((f) => f.path === name)).find((f) => f !== undefined);
  return files.filter((f) => f.path.endsWith(".proto") || f.path === "LICENSE" || f === doc);
}

const shake256 = (data: Uint8Array | string): Buffer =>
  createHash("shake256", { outputLength: 64 }).update(data).digest();

const byPathBytes = (a: DigestFile, b: DigestFile): number =>
  Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/** The manifest buf digests: `shake256:<hex>  <path>` lines over buf's file set, sorted by path bytes. */
function manifestOf(files: readonly DigestFile[]): string {
  return [...b5Files(files)]
    .sort(byPathBytes)
    .map((f) => `shake256:${shake256(f.content).toString("hex")}  ${f.path}\n`)
    .join("");
}

/**
 * The 64-byte b4 digest buf.yaml v1 modules are locked by: the manifest of the files, digested. buf adds the
 * module's buf.yaml and buf.lock to that manifest when the registry serves them; protodepot serves neither, so
 * the digest buf recomputes after a download covers the same files as this one.
 */
export function b4Digest(files: readonly DigestFile[]): Buffer {
  return shake256(manifestOf(files));
}

/**
 * The 64-byte b5 digest: a manifest of `shake256:<hex>  <path>` lines over buf's file set (sorted by path bytes),
 * digested; then that, with `b5:<hex>` of every dependency digest sorted, joined by newlines and digested again.
 */
export function b5Digest(files: readonly DigestFile[], depDigests: readonly Uint8Array[]): Buffer {
  const filesDigest = `shake256:${shake256(manifestOf(files)).toString("hex")}`;
  const deps = depDigests.map((d) => `b5:${Buffer.from(d).toString("hex")}`).sort();
  return shake256([filesDigest, ...deps].join("\n"));
}

/** b5Digest for a push: the same digest, computed without holding the event loop for more than a slice. */
export async function b5DigestYielding(
  files: readonly DigestFile[],
  depDigests: readonly Uint8Array[],
): Promise<Buffer> {
  const lines: string[] = [];
  for (const f of [...b5Files(files)].sort(byPathBytes)) {
    lines.push(
      `shake256:${(await digestYielding("shake256", f.content, { outputLength: 64 })).toString("hex")}  ${f.path}\n`,
    );
  }
  const filesDigest = `shake256:${shake256(lines.join("")).toString("hex")}`;
  const deps = depDigests.map((d) => `b5:${Buffer.from(d).toString("hex")}`).sort();
  return shake256([filesDigest, ...deps].join("\n"));
}

export interface DepCandidate<K> {
  key: K;
  files: readonly DigestFile[];
}

/**
 * The candidates whose files the module's imports reach, directly or through other candidates' imports, in
 * candidate order: buf leaves a dependency out of the digest when nothing imports it. Well-known types belong to
 * no candidate and are skipped.
 */
export function reachedDeps<K>(files: readonly DigestFile[], candidates: readonly DepCandidate<K>[]): K[] {
  const owner = new Map<string, number>();
  candidates.forEach((c, i) => {
    for (const f of c.files) if (f.path.endsWith(".proto") && !owner.has(f.path)) owner.set(f.path, i);
  });
  const own = new Set(files.map((f) => f.path));
  const reached = new Set<number>();
  const pending = files.filter((f) => f.path.endsWith(".proto")).flatMap((f) => protoImports(f.content));
  const seen = new Set<string>();
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path) || own.has(path)) continue;
    seen.add(path);
    const i = owner.get(path);
    if (i === undefined) continue;
    reached.add(i);
    const file = candidates[i]?.files.find((f) => f.path === path);
    if (file) pending.push(...protoImports(file.content));
  }
  return candidates.filter((_, i) => reached.has(i)).map((c) => c.key);
}

/** The candidates that own a file the module's own files import: its direct dependencies. */
export function directDeps<K>(files: readonly DigestFile[], candidates: readonly DepCandidate<K>[]): K[] {
  const imported = new Set(
    files.filter((f) => f.path.endsWith(".proto")).flatMap((f) => protoImports(f.content)),
  );
  return candidates.filter((c) => c.files.some((f) => imported.has(f.path))).map((c) => c.key);
}
