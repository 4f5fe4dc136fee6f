// Reads a module directory from disk into the file list a push sends: buf.yaml, buf.lock, docs and .proto files.
// Synchronous reads on purpose: a 500-file module reads in 8 ms this way and in 170 ms with one awaited
// fs/promises call per file (open, stat, read and close each a thread-pool round trip), which was most of
// `protodepot push`'s own time.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { parse as parseYaml } from "yaml";
import { Code, RegistryError } from "../core/errors.js";
import { protoImports } from "../core/proto-imports.js";

export interface LocalFile {
  path: string;
  content: Uint8Array;
}

const rootFiles = new Set(["buf.yaml", "buf.lock", "LICENSE", "README.md"]);
const skippedDirs = new Set(["node_modules", ".git"]);

function walkProtos(dir: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".") && !skippedDirs.has(entry.name)) walkProtos(dir, path, out);
    } else if (entry.isFile() && entry.name.endsWith(".proto")) {
      out.push(path);
    }
  }
}

/**
 * buf.yaml v2 may place the module in a subdirectory (`modules: [{path: proto}]`): its .proto files are sent
 * relative to that directory, as the module sees them.
 */
function moduleRoot(dir: string): string {
  const text = readOptional(join(dir, "buf.yaml"))?.toString("utf8");
  if (text === undefined) {
    // A mistyped path is not a directory without buf.yaml: say which of the two it is.
    if (!existsSync(dir)) throw new RegistryError(Code.InvalidArgument, `${dir} does not exist`);
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
  return readFiles(dir, moduleRoot(dir));
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function readFiles(dir: string, root: string): LocalFile[] {
  const protos: string[] = [];
  walkProtos(join(dir, root), "", protos);
  const files: LocalFile[] = [];
  for (const name of rootFiles) {
    const content = readOptional(join(dir, name));
    if (content) files.push({ path: name, content });
  }
  for (const path of protos.sort()) files.push({ path, content: readFileSync(join(dir, root, path)) });
  return files;
}

export interface WorkspaceModule {
  /** `owner/name` from `modules[].name` (its host dropped); undefined when the entry has none. */
  name?: string;
  /** Directory of the module inside the workspace ("." for a single module). */
  path: string;
  files: LocalFile[];
}

/**
 * The modules a push of `dir` sends: one for buf.yaml v1 and v2 with at most one module; for a v2 workspace,
 * every entry of `modules:` with its files re-rooted, in dependency order (a module after those it imports
 * from), as `buf push` pushes a workspace.
 */
export async function readWorkspace(dir: string): Promise<WorkspaceModule[]> {
  const entries = workspaceEntries(dir);
  if (entries === undefined) return [{ path: ".", files: await readModuleDir(dir) }];
  const modules = entries.map((e) => ({ ...e, files: readFiles(dir, e.path === "." ? "" : e.path) }));
  return dependencyOrder(modules);
}

function workspaceEntries(dir: string): { name?: string; path: string }[] | undefined {
  const doc: unknown = parseYaml(readOptional(join(dir, "buf.yaml"))?.toString("utf8") ?? "");
  const modules =
    typeof doc === "object" && doc !== null ? (doc as { modules?: unknown }).modules : undefined;
  if (!Array.isArray(modules) || modules.length < 2) return undefined;
  return modules.map((m: unknown, i) => {
    const entry = (typeof m === "object" && m !== null ? m : {}) as { name?: unknown; path?: unknown };
    const path = typeof entry.path === "string" ? posix.normalize(entry.path).replace(/\/$/, "") : ".";
    if (typeof entry.name !== "string") return { path };
    const parts = entry.name.split("/");
    if (parts.length < 2) {
      throw new RegistryError(
        Code.InvalidArgument,
        `buf.yaml: modules[${i}].name "${entry.name}" is not HOST/OWNER/MODULE`,
      );
    }
    return { name: parts.slice(-2).join("/"), path };
  });
}

function dependencyOrder(modules: WorkspaceModule[]): WorkspaceModule[] {
  const owner = new Map<string, WorkspaceModule>();
  for (const m of modules) for (const f of m.files) if (f.path.endsWith(".proto")) owner.set(f.path, m);
  const needs = new Map<WorkspaceModule, Set<WorkspaceModule>>();
  for (const m of modules) {
    const deps = new Set<WorkspaceModule>();
    for (const f of m.files) {
      if (!f.path.endsWith(".proto")) continue;
      for (const imp of protoImports(f.content)) {
        const from = owner.get(imp);
        if (from && from !== m) deps.add(from);
      }
    }
    needs.set(m, deps);
  }
  const ordered: WorkspaceModule[] = [];
  const state = new Map<WorkspaceModule, "visiting" | "done">();
  const visit = (m: WorkspaceModule, chain: string[]) => {
    if (state.get(m) === "done") return;
    const label = m.name ?? m.path;
    if (state.get(m) === "visiting") {
      throw new RegistryError(
        Code.InvalidArgument,
        `the workspace's modules import each other in a cycle: ${[...chain, label].join(" -> ")}`,
      );
    }
    state.set(m, "visiting");
    for (const dep of needs.get(m) ?? []) visit(dep, [...chain, label]);
    state.set(m, "done");
    ordered.push(m);
  };
  for (const m of modules) visit(m, []);
  return ordered;
}
