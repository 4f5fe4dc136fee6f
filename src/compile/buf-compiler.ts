// Compiles a module with its dependency modules into a FileDescriptorSet by running the real `buf build`.
import { createRequire } from "node:module";
import { Code, RegistryError } from "../core/errors.js";
import { protoImportsOfText } from "../core/proto-imports.js";
import type { TarEntry } from "../packaging/tar.js";
import { type BufResult, type BufRunner, createBufRunner } from "./buf-runner.js";
import { type ImageChecks, sharedImageChecks } from "./image-check-thread.js";
import { pathProblem } from "./module-files.js";

export interface SourceFile {
  /** Relative to the module root, e.g. `demo/money/v1/money.proto`. */
  path: string;
  content: Uint8Array;
}

export interface CompileInput {
  /** Only `.proto` files are compiled; other files are ignored. */
  module: { files: readonly SourceFile[] };
  /** Every dependency module, transitive ones included; only the files the module imports end up in the image. */
  deps: readonly { /** `owner/module`, used in messages. */ name: string; files: readonly SourceFile[] }[];
  /** Who pushes: compilations are scheduled fairly across pushers (compile.perPusher). */
  pusher?: string;
}

export interface CompileOutput {
  /** FileDescriptorSet: the module's files and everything they import (deps, well-known types), in dependency
   *  order, with source info. */
  image: Uint8Array;
}

export interface Compiler {
  compile(input: CompileInput, signal?: AbortSignal): Promise<CompileOutput>;
}

export interface BufCompilerOptions {
  /** Runs buf: sandboxed, limited and scheduled (buf-runner.ts); the server shares one with the checks. */
  runner?: BufRunner;
  /** Without a runner: the buf executable of a runner with default limits (default: defaultBuf()). */
  bufPath?: string;
  /** Without a runner: its time limit. */
  timeoutMs?: number;
  /** The checks of a built image (unique symbols, nesting); by default a worker thread shared by the process. */
  imageChecks?: ImageChecks;
}

const maxDetails = 200;

const moduleDir = "m";
const depDir = (i: number) => `d${i}`;

export function createBufCompiler(opts: BufCompilerOptions = {}): Compiler {
  const runner =
    opts.runner ??
    createBufRunner({
      buf: opts.bufPath ? { file: opts.bufPath, args: [] } : defaultBuf(),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  const imageChecks = opts.imageChecks ?? sharedImageChecks();
  imageChecks.warm();

  return {
    async compile(input, signal) {
      const owners = checkInput(input);
      let result: BufResult;
      try {
        // The workspace travels as a tar on stdin and the image comes back on stdout: nothing is written to
        // disk, which for a 500-file module took longer than compiling it.
        result = await runner.run({
          pusher: input.pusher ?? "",
          what: "build",
          args: [
            "build",
            `-#format=tar,subdir=${moduleDir}`,
            "-o",
            "-",
            "--as-file-descriptor-set",
            "--error-format=json",
          ],
          stdin: { tar: workspaceTar(input) },
          signal,
        });
      } catch (err) {
        // The caller's own reason, not the runner's wording of it.
        if (signal?.aborted) throw signal.reason;
        throw err;
      }
      if (result.code !== 0) throw buildError(result, input);
      const image = new Uint8Array(result.stdout.buffer, result.stdout.byteOffset, result.stdout.byteLength);
      // Decoding a large image takes seconds: off the event loop, in a worker with a heap limit of its own.
      await imageChecks.check(image, owners);
      return { image };
    },
  };
}

/**
 * The platform binary that @bufbuild/buf installs as an optional dependency. Spawning it directly saves the
 * Node start of the package's `bin/buf` launcher (≈ 40 ms per push); the launcher is the fallback.
 */
export function defaultBuf(): { file: string; args: string[] } {
  const require = createRequire(import.meta.url);
  const launcher = require.resolve("@bufbuild/buf/bin/buf");
  const arch = { arm64: process.platform === "linux" ? "aarch64" : "arm64", x64: "x64", arm: "armv7" }[
    process.arch as string
  ];
  if (arch) {
    const exe = process.platform === "win32" ? "buf.exe" : "buf";
    try {
      // Resolved from the launcher's package, where npm may have nested the platform package.
      const fromBuf = createRequire(launcher);
      return { file: fromBuf.resolve(`@bufbuild/buf-${process.platform}-${arch}/bin/${exe}`), args: [] };
    } catch {
      // Not installed for this platform (e.g. --no-optional): the launcher downloads or finds it.
    }
  }
  return { file: process.execPath, args: [launcher] };
}

/** Refuses file sets buf would silently accept or report confusingly; returns the owner of each path. */
function checkInput(input: CompileInput): Map<string, string> {
  const owners = new Map<string, string>();
  const add = (owner: string, file: SourceFile) => {
    const problem = pathProblem(file.path);
    if (problem) throw invalid(`${owner}: invalid file path ${JSON.stringify(file.path)}: ${problem}`);
    const other = owners.get(file.path);
    if (other !== undefined) {
      throw invalid(
        other === "the module"
          ? `dependency ${owner} has file ${file.path}, which the module also has: rename or move one of them`
          : `dependencies ${other} and ${owner} both have file ${file.path}: an import of it would be ambiguous`,
      );
    }
    owners.set(file.path, owner);
  };
  for (const file of protos(input.module.files)) add("the module", file);
  for (const dep of input.deps) for (const file of protos(dep.files)) add(dep.name, file);
  return owners;
}

/** A buf v2 workspace: the module and each dependency are modules of it, so imports resolve without network. */
function workspaceTar(input: CompileInput): TarEntry[] {
  const modules = [moduleDir, ...input.deps.map((_, i) => depDir(i))];
  const bufYaml = `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m}\n`).join("")}`;
  return [
    { path: "buf.yaml", content: new TextEncoder().encode(bufYaml) },
    ...protos(input.module.files).map((f) => ({ path: `${moduleDir}/${f.path}`, content: f.content })),
    ...input.deps.flatMap((dep, i) =>
      protos(dep.files).map((f) => ({ path: `${depDir(i)}/${f.path}`, content: f.content })),
    ),
  ];
}

export interface Annotation {
  path: string;
  start_line?: number;
  start_column?: number;
  message: string;
}

export function isAnnotation(value: unknown): value is Annotation {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.path === "string" && typeof v.message === "string";
}

/**
 * Turns buf's JSON annotations into `file:line:col: message` lines, with paths as the user knows them: the
 * workspace directory is stripped, and a dependency's file is prefixed with the dependency's name.
 */
function buildError(result: BufResult, input: CompileInput): RegistryError {
  const userPath = (path: string): string => {
    const at = locate(path, input);
    if (!at) return path;
    return at.dep ? `${at.dep.name}: ${at.path}` : at.path;
  };
  const lines: string[] = [];
  let annotated = false;
  for (const raw of result.stderr.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const parsed = parseJson(line);
    if (isAnnotation(parsed)) {
      annotated = true;
      const pos = parsed.start_line ? `:${parsed.start_line}:${parsed.start_column ?? 0}` : "";
      lines.push(`${userPath(parsed.path)}${pos}: ${parsed.message}${missingImport(parsed, input)}`);
    } else {
      // Plain failures mention workspace paths too ("m/…", "d0/…"); rewrite them the same way.
      lines.push(line.replace(/(?<![\w/.-])(?:m|d\d+)\/[^\s"':]+/g, userPath));
    }
  }
  const details =
    lines.length > maxDetails
      ? [...lines.slice(0, maxDetails), `… and ${lines.length - maxDetails} more`]
      : lines;
  // Exit code 100 is buf's "the input has errors"; anything else is buf failing, which the user cannot fix.
  if (annotated || result.code === 100) {
    return new RegistryError(Code.InvalidArgument, "module does not compile", { details });
  }
  return new RegistryError(Code.Internal, `buf build failed (exit ${result.code ?? "by signal"})`, {
    details,
  });
}

/** Which input a workspace path (`m/…`, `dN/…`) belongs to, and its path there. */
function locate(
  path: string,
  input: CompileInput,
): { path: string; dep?: CompileInput["deps"][number] } | undefined {
  const slash = path.indexOf("/");
  const dir = path.slice(0, slash);
  const rest = path.slice(slash + 1);
  if (dir === moduleDir) return { path: rest };
  const dep = /^d\d+$/.test(dir) ? input.deps[Number(dir.slice(1))] : undefined;
  return dep ? { path: rest, dep } : undefined;
}

/** buf says "imported file does not exist" without saying which; the import line does. */
function missingImport(annotation: Annotation, input: CompileInput): string {
  if (annotation.message !== "imported file does not exist" || !annotation.start_line) return "";
  const at = locate(annotation.path, input);
  const file = (at?.dep ?? input.module).files.find((f) => f.path === at?.path);
  if (!file) return "";
  const line = new TextDecoder().decode(file.content).split("\n")[annotation.start_line - 1] ?? "";
  const imported = protoImportsOfText(line)[0];
  return imported ? `: ${imported}` : "";
}

export function parseJson(text: string): unknown {
  if (!text.startsWith("{")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function protos(files: readonly SourceFile[]): SourceFile[] {
  return files.filter((f) => f.path.endsWith(".proto"));
}

function invalid(message: string): RegistryError {
  return new RegistryError(Code.InvalidArgument, message);
}
