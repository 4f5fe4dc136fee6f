// What a host-command plugin needs to run: its real executable, PATH, and the host directories to bind read-only.
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
} from "node:fs";
import { delimiter, dirname, isAbsolute, join, sep } from "node:path";

export interface HostCommand {
  /** Absolute path of the real executable (symlinks resolved). */
  executable: string;
  args: readonly string[];
  /** Host directories to bind read-only, beyond the system tree (those already inside it are dropped). */
  binds: string[];
  /** PATH inside the sandbox. */
  path: string;
}

/** Resolves command[0] (absolute, or looked up on PATH) and derives what it needs to run. */
export function resolveCommand(command: readonly string[], hostPath = process.env.PATH ?? ""): HostCommand {
  const [first, ...args] = command;
  if (first === undefined || first === "") throw new Error("empty plugin command");
  const found = isAbsolute(first) ? first : lookPath(first, hostPath);
  if (found === undefined) throw new Error(`${first} not found on PATH`);
  const executable = realpathSync(found);
  accessSync(executable, constants.X_OK);

  // node's own directory goes first on PATH, so `#!/usr/bin/env node` finds the node that runs this server.
  const nodeDir = dirname(process.execPath);
  const path = unique([nodeDir, "/usr/local/bin", "/usr/bin", "/bin"]).join(":");
  const binds = [dirname(executable), nodeDir];

  const interpreter = shebang(executable);
  if (interpreter) {
    const [prog, arg] = interpreter;
    const named = prog.endsWith("/env") && arg ? lookPath(arg, path) : prog;
    if (named) binds.push(dirname(realpathSync(named)));
    if (
      /^node(js)?$/.test(baseName(arg && prog.endsWith("/env") ? arg : prog)) ||
      /\.[cm]?js$/.test(executable)
    ) {
      binds.push(...nodeResolutionDirs(executable));
    }
  }
  return { executable, args, binds: minimalBinds(binds), path };
}

/**
 * Node resolves `require`/`import` by walking up from the script's real location and trying each ancestor's
 * node_modules; it also reads the nearest package.json for the module type. Binding exactly those directories
 * (and that one file) lets any installed node plugin run — a package's bin script, or a script beside its
 * project — without exposing the rest of the project. Dependencies symlinked out of the tree (pnpm's store,
 * `npm link`) are not followed; such installs need their store under one of these directories.
 */
export function nodeResolutionDirs(script: string): string[] {
  const out: string[] = [];
  let packageJson: string | undefined;
  for (let dir = dirname(script); ; dir = dirname(dir)) {
    const nm = join(dir, "node_modules");
    if (baseName(dir) !== "node_modules" && isDir(nm)) out.push(nm);
    if (packageJson === undefined && existsSync(join(dir, "package.json")))
      packageJson = join(dir, "package.json");
    if (dirname(dir) === dir) break;
  }
  if (packageJson) out.push(packageJson);
  return out;
}

/** Drops directories already inside another bound directory; sorted so the argv is stable. */
export function minimalBinds(dirs: readonly string[]): string[] {
  const sorted = unique(dirs).sort();
  return sorted.filter((d) => !sorted.some((o) => o !== d && within(d, o)));
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function lookPath(name: string, path: string): string | undefined {
  if (name.includes("/")) return undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Next entry.
    }
  }
  return undefined;
}

/** `#!/usr/bin/env node` → ["/usr/bin/env", "node"]; undefined for a binary. */
function shebang(file: string): [string, string | undefined] | undefined {
  const buf = Buffer.alloc(256);
  const fd = openSync(file, "r");
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const head = buf.subarray(0, n).toString("latin1");
  if (!head.startsWith("#!")) return undefined;
  const line = head.slice(2).split("\n")[0]?.trim() ?? "";
  const [prog, arg] = line.split(/\s+/);
  return prog ? [prog, arg] : undefined;
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);
const unique = <T>(xs: readonly T[]) => [...new Set(xs)];
