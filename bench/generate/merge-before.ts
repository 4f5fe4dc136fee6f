// The merge as it was before it was planned (kept for bench/generate/merge.ts only): protoc's rule over decoded text.
import { Code, RegistryError } from "../../src/core/errors.js";
import type { PluginResponse_File } from "../../src/gen/protodepot/plugin/v1/response_pb.js";
import { applyInsertion } from "../../src/generate/testing/protoc-insertion.js";

export interface OutputLimits {
  maxFiles: number;
  /** Total bytes of all generated files. */
  maxOutputBytes: number;
}

interface Entry {
  /** Bytes as the plugin wrote them; text once an insertion point was applied to it. */
  content: Uint8Array | string;
  /** The plugin that created the file; insertions by later plugins do not change it. */
  plugin: string;
}

/** Why a generated path is refused, or undefined when it is a clean relative path. */
export function outputPathProblem(path: string): string | undefined {
  if (path === "") return "is empty";
  if (path.includes("\0")) return "contains a NUL byte";
  if (path.includes("\\")) return "contains a backslash";
  if (path.startsWith("/")) return "is absolute";
  const parts = path.split("/");
  if (parts.includes("..")) return 'contains ".."';
  if (parts.some((p) => p === "" || p === ".")) return "is not clean (empty or '.' element)";
  // No archive holding such a name could be unpacked (NAME_MAX), so it would be served broken forever.
  if (parts.some((p) => Buffer.byteLength(p, "utf8") > 255)) return "has a name longer than 255 bytes";
  return undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (c: Uint8Array | string) => (typeof c === "string" ? c : decoder.decode(c));
const bytes = (c: Uint8Array | string) => (typeof c === "string" ? encoder.encode(c) : c);
const size = (c: Uint8Array | string) =>
  typeof c === "string" ? Buffer.byteLength(c, "utf8") : c.byteLength;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

const fail = (code: Code, plugin: string, message: string) =>
  new RegistryError(code, `plugin ${plugin} ${message}`, { plugin });

function checkPath(plugin: string, path: string) {
  const problem = outputPathProblem(path);
  if (problem)
    throw fail(Code.Unprocessable, plugin, `generated file ${JSON.stringify(path)}: path ${problem}`);
}

const tooMany = (plugin: string, limits: OutputLimits) =>
  fail(Code.Unprocessable, plugin, `generated more than ${limits.maxFiles} files (plugins.maxFiles)`);

const tooBig = (plugin: string, total: number, limits: OutputLimits) =>
  fail(
    Code.Unprocessable,
    plugin,
    `brought generated files to ${total} bytes, over ${limits.maxOutputBytes} (plugins.maxOutputBytes)`,
  );

/**
 * Checks responses that leave as the plugins wrote them (buf's remote plugins: the client writes the files and
 * applies insertion points, also into files its other plugins generate): every path clean, no file generated
 * twice by one plugin, and the files of every response checked by one checker together within the limits.
 */
export function createResponseChecker(limits: OutputLimits) {
  let fileCount = 0;
  let total = 0;
  return {
    check(plugin: string, chunks: readonly PluginResponse_File[]) {
      const names = new Set<string>();
      for (const [i, chunk] of chunks.entries()) {
        if (chunk.name === "") {
          if (i === 0) throw fail(Code.Unprocessable, plugin, "returned a first file without a name");
        } else {
          checkPath(plugin, chunk.name);
          if (chunk.insertionPoint === "") {
            if (names.has(chunk.name))
              throw fail(Code.Unprocessable, plugin, `generated ${chunk.name} twice`);
            names.add(chunk.name);
            if (++fileCount > limits.maxFiles) throw tooMany(plugin, limits);
          }
        }
        total += chunk.content.byteLength;
        if (total > limits.maxOutputBytes) throw tooBig(plugin, total, limits);
      }
    },
  };
}

export function createOutputTree(limits: OutputLimits) {
  const files = new Map<string, Entry>();

  function open(plugin: string, name: string, content: Uint8Array) {
    checkPath(plugin, name);
    const existing = files.get(name);
    if (existing) {
      const by = existing.plugin === plugin ? "twice" : `that plugin ${existing.plugin} also generated`;
      throw fail(Code.Unprocessable, plugin, `generated ${name} ${by}`);
    }
    if (files.size >= limits.maxFiles) throw tooMany(plugin, limits);
    files.set(name, { content, plugin });
  }

  function insert(plugin: string, name: string, point: string, content: Uint8Array) {
    checkPath(plugin, name);
    const target = files.get(name);
    if (!target)
      throw fail(Code.Unprocessable, plugin, `tried to insert into ${name}, which no plugin generated (yet)`);
    const next = applyInsertion(text(target.content), point, text(content));
    if (next === undefined)
      throw fail(Code.Unprocessable, plugin, `insertion point "${point}" not found in ${name}`);
    target.content = next;
  }

  return {
    /**
     * Adds one plugin's files in response order. A chunk without a name continues the previous chunk, so the
     * content is joined before an insertion is applied, exactly as protoc streams it.
     */
    add(plugin: string, chunks: readonly PluginResponse_File[]) {
      let current: { name: string; point: string; content: Uint8Array } | undefined;
      const flush = () => {
        if (!current) return;
        if (current.point === "") open(plugin, current.name, current.content);
        else insert(plugin, current.name, current.point, current.content);
        current = undefined;
      };
      for (const chunk of chunks) {
        if (chunk.name === "") {
          if (!current) throw fail(Code.Unprocessable, plugin, "returned a first file without a name");
          current.content = concat(current.content, chunk.content);
          continue;
        }
        flush();
        current = { name: chunk.name, point: chunk.insertionPoint, content: chunk.content };
      }
      flush();
      let total = 0;
      for (const f of files.values()) total += size(f.content);
      if (total > limits.maxOutputBytes) throw tooBig(plugin, total, limits);
    },

    /** The files, sorted by path (byte order). */
    files(): { path: string; content: Uint8Array }[] {
      return [...files.keys()]
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .map((path) => ({ path, content: bytes(files.get(path)?.content ?? "") }));
    },
  };
}
