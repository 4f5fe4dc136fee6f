// Reads a module directory from disk into the file list a push sends: buf.yaml, buf.lock, docs and .proto files.
import { readdir, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { parse as parseYaml } from "yaml";
import { Code, RegistryError } from "../core/errors.js";

export interface LocalFile {
  path: string;
  content: Uint8Array;
}

const rootFiles = new Set(["buf.yaml", "buf.lock", "LICENSE", "README.md"]);
const skippedDirs = new Set(["node_modules", ".git"]);

async function walkProtos(dir: string, rel: string, out: string[]): Promise<void> {
  for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".") && !skippedDirs.has(entry.name)) await walkProtos(dir, path, out);
    } else if (entry.isFile() && entry.name.endsWith(".proto")) {
      out.push(path);
    }
  }
}

/**
 * buf.yaml v2 may place the module in a subdirectory (`modules: [{path: proto}]`): its .proto files are sent
 * relative to that directory, as the module sees them.
 */
async function moduleRoot(dir: string): Promise<string> {
  const text = await readFile(join(dir, "buf.yaml"), "utf8").catch(() => undefined);
  if (text === undefined) {
    throw new RegistryError(Code.InvalidArgument, `${dir} has no buf.yaml: push a module directory`);
  }
  const doc: unknown = parseYaml(text);
  if (typeof doc !== "object" || doc === null) return "";
  const modules = (doc as { modules?: unknown }).modules;
  if (!Array.isArray(modules) || modules.length !== 1) return "";
  const path = (modules[0] as { path?: unknown }).path;
  return typeof path === "string" && path !== "." ? posix.normalize(path).replace(/\/$/, "") : "";
}

export async function readModuleDir(dir: string): Promise<LocalFile[]> {
  const root = await moduleRoot(dir);
  const protos: string[] = [];
  await walkProtos(join(dir, root), "", protos);
  const files: LocalFile[] = [];
  for (const name of rootFiles) {
    const content = await readFile(join(dir, name)).catch(() => undefined);
    if (content) files.push({ path: name, content });
  }
  for (const path of protos.sort()) files.push({ path, content: await readFile(join(dir, root, path)) });
  return files;
}
