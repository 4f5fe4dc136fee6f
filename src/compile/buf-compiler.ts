// Compiles a module with its dependency modules into a FileDescriptorSet by running the real `buf build`.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, RegistryError } from "../core/errors.js";
import { scanImage, withoutSourceInfo } from "../core/image-files.js";
import { createTar } from "../packaging/tar.js";
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
  /** The buf executable; by default the one shipped by the @bufbuild/buf package. */
  bufPath?: string;
  /** Per compilation; 30 s by default. */
  timeoutMs?: number;
}

const defaultTimeoutMs = 30_000;
// Enough for every error a human will read; a module with thousands of errors must not fill the memory.
const maxStderrBytes = 1 << 20;
const maxDetails = 200;

const moduleDir = "m";
const depDir = (i: number) => `d${i}`;

export function createBufCompiler(opts: BufCompilerOptions = {}): Compiler {
  const command = opts.bufPath ? { file: opts.bufPath, args: [] } : defaultBuf();
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;

  return {
    async compile(input, signal) {
      const owners = checkInput(input);
      const dir = await mkdtemp(join(tmpdir(), "protodepot-compile-"));
      try {
        // The workspace travels as a tar on stdin and the image comes back on stdout: nothing is written to
        // disk, which for a 500-file module took longer than compiling it.
        const result = await run(
          command,
          [
            "build",
            `-#format=tar,subdir=${moduleDir}`,
            "-o",
            "-",
            "--as-file-descriptor-set",
            "--error-format=json",
          ],
          { cwd: dir, timeoutMs, signal, stdin: await workspaceTar(input) },
        );
        if (result.code !== 0) throw buildError(result, input);
        const image = new Uint8Array(
          result.stdout.buffer,
          result.stdout.byteOffset,
          result.stdout.byteLength,
        );
        // Decoded without source info: symbols are all it needs, and comments are most of a large image.
        checkUniqueSymbols(
          scanImage(image).map((f) => fromBinary(FileDescriptorProtoSchema, withoutSourceInfo(f.bytes))),
          owners,
        );
        return { image };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
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
function workspaceTar(input: CompileInput): Promise<Buffer> {
  const modules = [moduleDir, ...input.deps.map((_, i) => depDir(i))];
  const bufYaml = `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m}\n`).join("")}`;
  return createTar([
    { path: "buf.yaml", content: new TextEncoder().encode(bufYaml) },
    ...protos(input.module.files).map((f) => ({ path: `${moduleDir}/${f.path}`, content: f.content })),
    ...input.deps.flatMap((dep, i) =>
      protos(dep.files).map((f) => ({ path: `${depDir(i)}/${f.path}`, content: f.content })),
    ),
  ]);
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(
  command: { file: string; args: string[] },
  args: string[],
  opts: { cwd: string; timeoutMs: number; signal?: AbortSignal | undefined; stdin?: Uint8Array },
): Promise<RunResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, [...command.args, ...args], {
      cwd: opts.cwd,
      // Nothing of the server's environment (tokens, proxies, HOME) reaches buf. Its cache and config live in
      // the temp dir, and a proxy that refuses every connection turns any attempt at the network into an error.
      env: {
        HOME: opts.cwd,
        BUF_CACHE_DIR: join(opts.cwd, ".cache"),
        XDG_CACHE_HOME: join(opts.cwd, ".cache"),
        XDG_CONFIG_HOME: join(opts.cwd, ".config"),
        HTTP_PROXY: "http://127.0.0.1:9",
        HTTPS_PROXY: "http://127.0.0.1:9",
        NO_COLOR: "1",
      },
      stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      signal,
      killSignal: "SIGKILL",
    });
    // stdout carries the image: binary, and as large as the module needs.
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    if (opts.stdin) {
      // buf may exit before reading everything (e.g. a bad buf.yaml); that EPIPE is not the error to report.
      child.stdin?.on("error", () => {});
      child.stdin?.end(opts.stdin);
    }
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < maxStderrBytes) stderr += chunk;
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.name === "AbortError") {
        if (timeout.aborted) {
          reject(
            new RegistryError(Code.DeadlineExceeded, `compilation took longer than ${opts.timeoutMs} ms`),
          );
        } else {
          reject(opts.signal?.reason ?? err);
        }
      } else if (err.code === "ENOENT") {
        reject(
          new RegistryError(
            Code.Internal,
            `the buf compiler was not found at ${command.file}`,
            {},
            { cause: err },
          ),
        );
      } else {
        reject(RegistryError.from(err));
      }
    });
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
  });
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
function buildError(result: RunResult, input: CompileInput): RegistryError {
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
  const imported = /import\s+(?:public\s+|weak\s+)?["']([^"']+)["']/.exec(line)?.[1];
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

/**
 * buf links each file against its own imports only, so two files that never import each other may both define
 * `pkg.Money` and the build still succeeds (protoc refuses it). Generated code would then register one type
 * twice, so the image is refused here.
 */
function checkUniqueSymbols(
  files: readonly FileDescriptorProto[],
  owners: ReadonlyMap<string, string>,
): void {
  const where = new Map<string, string>();
  const fileLabel = (name: string) => {
    const owner = owners.get(name);
    return owner === undefined || owner === "the module" ? name : `${owner}: ${name}`;
  };
  for (const file of files) {
    const define = (symbol: string) => {
      const other = where.get(symbol);
      if (other !== undefined && other !== file.name) {
        throw new RegistryError(Code.InvalidArgument, "module does not compile", {
          details: [`${fileLabel(file.name)}: symbol ${symbol} is already defined in ${fileLabel(other)}`],
        });
      }
      where.set(symbol, file.name);
    };
    const scope = file.package ? `${file.package}.` : "";
    const enums = (prefix: string, list: readonly EnumDescriptorProto[]) => {
      for (const e of list) {
        define(`${prefix}${e.name}`);
        // Enum values are siblings of their enum, as in C++.
        for (const v of e.value) define(`${prefix}${v.name}`);
      }
    };
    const messages = (prefix: string, list: readonly DescriptorProto[]) => {
      for (const m of list) {
        const name = `${prefix}${m.name}`;
        define(name);
        messages(`${name}.`, m.nestedType);
        enums(`${name}.`, m.enumType);
        for (const x of m.extension) define(`${name}.${x.name}`);
      }
    };
    messages(scope, file.messageType);
    enums(scope, file.enumType);
    for (const s of file.service) define(`${scope}${s.name}`);
    for (const x of file.extension) define(`${scope}${x.name}`);
  }
}

function protos(files: readonly SourceFile[]): SourceFile[] {
  return files.filter((f) => f.path.endsWith(".proto"));
}

function invalid(message: string): RegistryError {
  return new RegistryError(Code.InvalidArgument, message);
}
