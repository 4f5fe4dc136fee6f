// Checks the file set of a push (paths, allowed names, limits) and computes its manifest digest.
import { Buffer } from "node:buffer";
import { Code, RegistryError } from "../core/errors.js";
import { sha256Hex, sha256HexOffThread } from "../core/hashing.js";

export interface ModuleFileInput {
  path: string;
  content: Uint8Array;
}

export interface ModuleFileLimits {
  maxFiles: number;
  maxFileBytes: number;
}

/**
 * Files other than `.proto` that a module may hold, at its root only. The same names `buf push` uploads:
 * config, lock, and the documentation and licence files buf looks for (`buf.md`, `README.md`,
 * `README.markdown`, `LICENSE`). Matched case-sensitively, as buf does, so a pushed module looks the same
 * on every filesystem it is extracted to.
 */
export const ROOT_FILES: ReadonlySet<string> = new Set([
  "buf.yaml",
  "buf.lock",
  "buf.md",
  "README.md",
  "README.markdown",
  "LICENSE",
]);

/**
 * The well-known types come with the compiler. A module's own copy would shadow them for its dependents, and
 * the `imports_wkt` scope tells them apart from module files by this directory alone.
 */
const wktDir = "google/protobuf/";

/** Throws InvalidArgument (bad path or name) or ResourceExhausted (too many or too big), naming the file. */
export function validateModuleFiles(files: readonly ModuleFileInput[], limits: ModuleFileLimits): void {
  if (files.length > limits.maxFiles) {
    throw new RegistryError(
      Code.ResourceExhausted,
      `the module has ${files.length} files, more than the limit of ${limits.maxFiles}`,
    );
  }
  const seen = new Set<string>();
  let protos = 0;
  for (const file of files) {
    const problem = pathProblem(file.path);
    if (problem) throw invalid(`invalid file path ${JSON.stringify(file.path)}: ${problem}`);
    if (seen.has(file.path)) throw invalid(`file "${file.path}" is listed twice`);
    seen.add(file.path);
    if (file.path.endsWith(".proto")) {
      if (file.path.startsWith(wktDir)) {
        throw invalid(
          `file "${file.path}" is in ${wktDir}, which is reserved for the well-known types the compiler provides`,
        );
      }
      protos++;
    } else if (!ROOT_FILES.has(file.path)) {
      throw invalid(
        `file "${file.path}" is not allowed: a module holds .proto files, and at its root ${[...ROOT_FILES].join(", ")}`,
      );
    }
    if (file.content.byteLength > limits.maxFileBytes) {
      throw new RegistryError(
        Code.ResourceExhausted,
        `file "${file.path}" has ${file.content.byteLength} bytes, more than the limit of ${limits.maxFileBytes}`,
      );
    }
  }
  if (protos === 0) throw invalid("the module has no .proto files");
}

/** Why a path is not a clean relative "/"-separated path, or undefined when it is. */
export function pathProblem(path: string): string | undefined {
  if (path === "") return "it is empty";
  if (path.startsWith("/")) return "it must be relative, without a leading /";
  if (path.includes("\\")) return "use / to separate directories, not \\";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(path)) return "it contains a control character";
  const segments = path.split("/");
  for (const segment of segments) {
    if (segment === "") return "it has an empty segment (// or a trailing /)";
    if (segment === "." || segment === "..") return `it has a "${segment}" segment`;
    const bytes = Buffer.byteLength(segment, "utf8");
    if (bytes > maxSegmentBytes) {
      return `${JSON.stringify(segment)} is ${bytes} bytes long; file systems allow at most ${maxSegmentBytes} per name, so no archive of it could be unpacked`;
    }
  }
  const fileName = segments.at(-1) ?? "";
  if (fileName === ".proto") return "the file name is only an extension";
  const fileBytes = Buffer.byteLength(fileName, "utf8");
  if (fileBytes > maxFileNameBytes) {
    return `the file name is ${fileBytes} bytes long; at most ${maxFileNameBytes} leave room for what generated names add (x_grpc.pb.go, x_connect.d.ts) within the ${maxSegmentBytes} file systems allow`;
  }
  return undefined;
}

/** Longest name of a directory or file that Linux, macOS and Windows file systems all accept (NAME_MAX). */
export const maxSegmentBytes = 255;
/** A pushed file's name leaves room for the longest suffix plugins put in place of `.proto`. */
export const maxFileNameBytes = 200;

/** The hex sha256 of every file, hashed on the thread pool (a push's files are a stranger's megabytes). */
export async function fileDigests(files: readonly ModuleFileInput[]): Promise<HashedFile[]> {
  return Promise.all(
    files.map(async (f) => ({
      path: f.path,
      size: f.content.byteLength,
      sha256: await sha256HexOffThread(f.content),
    })),
  );
}

export interface HashedFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * `sha256:` + hex of the manifest: one line `{sha256 hex}  {path}\n` per file, sorted by path in byte
 * order, as buf's manifest (which uses shake256). Equal file sets give equal digests whatever the push order.
 * Built from the files' own digests (fileDigests), so a push hashes each file once.
 */
export function manifestDigestOf(files: readonly Omit<HashedFile, "size">[]): string {
  const lines = files
    .map((f) => ({ key: Buffer.from(f.path, "utf8"), line: `${f.sha256}  ${f.path}\n` }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((l) => l.line)
    .join("");
  return `sha256:${sha256Hex(Buffer.from(lines, "utf8"))}`;
}

function invalid(message: string): RegistryError {
  return new RegistryError(Code.InvalidArgument, message);
}
