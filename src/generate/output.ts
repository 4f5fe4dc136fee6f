// Merges untrusted plugin responses into one file tree the way protoc does: path checks, insertion points, limits.
// Every size is known before anything is built: an insertion is planned against an index of the target's
// insertion points (docs/serving.md, "Merging plugin output"), and each file is built once, at its final length.
import { isUtf8 } from "node:buffer";
import { Code, RegistryError } from "../core/errors.js";
import type { PluginResponse_File } from "../gen/protodepot/plugin/v1/response_pb.js";

export interface OutputLimits {
  maxFiles: number;
  /** Total bytes of all generated files, insertions and their indentation included. */
  maxOutputBytes: number;
  /** Insertion chunks over every plugin of one generation (plugins.maxInsertions); 10,000 when unset. */
  maxInsertions?: number;
}

export const defaultMaxInsertions = 10_000;

/** What the merge reads of a response's file (PluginResponse_File is one; the merge worker builds plain ones). */
export interface OutputChunk {
  name: string;
  insertionPoint: string;
  content: Uint8Array;
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
const fail = (code: Code, plugin: string, message: string) =>
  new RegistryError(code, `plugin ${plugin} ${message}`, { plugin });

function checkPath(plugin: string, path: string) {
  const problem = outputPathProblem(path);
  if (problem)
    throw fail(Code.Unprocessable, plugin, `generated file ${JSON.stringify(path)}: path ${problem}`);
}

const tooMany = (plugin: string, limits: OutputLimits) =>
  fail(Code.Unprocessable, plugin, `generated more than ${limits.maxFiles} files (plugins.maxFiles)`);

const tooManyInsertions = (plugin: string, max: number) =>
  fail(
    Code.Unprocessable,
    plugin,
    `made more than ${max} insertions into generated files (plugins.maxInsertions)`,
  );

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
  let insertions = 0;
  const maxInsertions = limits.maxInsertions ?? defaultMaxInsertions;
  return {
    check(plugin: string, chunks: readonly PluginResponse_File[]) {
      const names = new Set<string>();
      for (const [i, chunk] of chunks.entries()) {
        if (chunk.name === "") {
          if (i === 0) throw fail(Code.Unprocessable, plugin, "returned a first file without a name");
        } else {
          checkPath(plugin, chunk.name);
          if (chunk.insertionPoint !== "" && ++insertions > maxInsertions)
            throw tooManyInsertions(plugin, maxInsertions);
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

export interface OutputTreeOptions {
  /**
   * The insertion points each file will be asked for (wantedPoints): only their markers get a name in the index,
   * so a file of millions of distinct markers costs no more than its typed arrays. Every name when unset.
   */
  wanted?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Bytes the exact but slow path may scan or copy (a target whose insertions the index cannot plan: see
   * `planProblem`) before the tree gives up with `MergeTooSlow`, so the caller can move the merge off the event
   * loop. Unbounded when unset (inside the merge worker, whose deadline and heap limit bound it instead).
   */
  maxSlowWork?: number;
}

/** Thrown (never to a client) when an inline merge passed `maxSlowWork`: the caller retries in the worker. */
export class MergeTooSlow extends Error {
  override readonly name = "MergeTooSlow";
}

/** A file as the plugin that created it wrote it, until an insertion targets it. */
interface Entry {
  /** The plugin that created the file; insertions by later plugins do not change it. */
  plugin: string;
  content: Uint8Array;
  /** Final length in bytes: what `build` will allocate. */
  size: number;
  merged?: Planned | Slow;
}

/** A target planned against its index: the original bytes and the pieces inserted before some of its positions. */
interface Planned {
  kind: "planned";
  orig: Buffer;
  index: PointIndex;
  /** Position in `orig` → the pieces inserted right before it, in order. */
  anchors: Map<number, Piece[]>;
  /** Line start in `orig` → the positions with pieces on that line, ascending. */
  lines: Map<number, number[]>;
  /** The smallest position with a piece (Infinity when none). */
  first: number;
  /** Line start → length of its leading spaces and tabs. */
  indents: Map<number, number>;
}

/** A target the index cannot plan: applied one insertion at a time as protoc does (applyInsertion). */
interface Slow {
  kind: "slow";
  bytes: Buffer;
}

interface Piece {
  data: Uint8Array;
  /** protoc ends inserted text with a newline when it lacks one. */
  newline: boolean;
  /** The indentation every line gets: `orig[indentFrom, indentFrom + indent)`. */
  indentFrom: number;
  indent: number;
}

const prefix = Buffer.from("@@protoc_insertion_point(");
const nl = 0x0a;
const rparen = 0x29;

/**
 * Every `@@protoc_insertion_point(` of a file, found in two passes (count, then fill typed arrays: 16 bytes per
 * marker, a marker being at least 26 bytes), and the first marker of each point that may be looked up.
 */
interface PointIndex {
  /** A point's name (its UTF-8 bytes as latin1) → its first marker. */
  firstOf: Map<string, number>;
  /** Every marker start, ascending. */
  starts: Int32Array;
  /** For each marker, the first `)` after its prefix (the file's length when none). */
  parens: Int32Array;
  /** For each marker, the start of its line. */
  lineStarts: Int32Array;
}

function indexPoints(orig: Buffer, wanted: ReadonlySet<string> | undefined): PointIndex {
  let count = 0;
  for (let i = orig.indexOf(prefix); i >= 0; i = orig.indexOf(prefix, i + prefix.length)) count++;
  const starts = new Int32Array(count);
  const parens = new Int32Array(count);
  const lineStarts = new Int32Array(count);
  const lineEnds = new Int32Array(count);
  const none = orig.byteLength;
  let lastNl = -1;
  let nextNl = orig.indexOf(nl);
  let paren = -1;
  let k = 0;
  // Both pointers only move forward: one pass over the file, however many markers share a line or a `)`.
  for (let i = orig.indexOf(prefix); i >= 0 && k < count; i = orig.indexOf(prefix, i + prefix.length)) {
    while (nextNl >= 0 && nextNl < i) {
      lastNl = nextNl;
      nextNl = orig.indexOf(nl, lastNl + 1);
    }
    if (paren !== none && paren < i + prefix.length) {
      const at = orig.indexOf(rparen, i + prefix.length);
      paren = at < 0 ? none : at;
    }
    starts[k] = i;
    parens[k] = paren;
    lineStarts[k] = lastNl + 1;
    lineEnds[k] = nextNl < 0 ? none : nextNl;
    k++;
  }
  const lengths = wanted ? new Set([...wanted].map((w) => Buffer.byteLength(w, "utf8"))) : undefined;
  const firstOf = new Map<string, number>();
  for (let k = 0; k < count; k++) {
    const start = (starts[k] ?? 0) + prefix.length;
    const end = parens[k] ?? none;
    // A name with a newline or another marker in it is never looked up here (planProblem): only the clean ones.
    if (end === none || end >= (starts[k + 1] ?? none) || end >= (lineEnds[k] ?? none)) continue;
    if (lengths && !lengths.has(end - start)) continue;
    const name = orig.toString("latin1", start, end);
    if (wanted && !wanted.has(Buffer.from(name, "latin1").toString("utf8"))) continue;
    if (!firstOf.has(name)) firstOf.set(name, k);
  }
  return { firstOf, starts, parens, lineStarts };
}

/**
 * Why a point's insertions cannot be planned against the index (so the file takes the slow, exact path), or
 * undefined. The index sees the markers of the original file only; it is exact while no marker can be found in,
 * or across the edges of, inserted text, and while names have no `)` (the index cuts names at the first one).
 */
function planProblem(point: string): string | undefined {
  if (point.includes(")")) return "a ) in the name";
  if (point.includes("\n")) return "a newline in the name";
  if (point.includes("@@protoc_insertion_point(")) return "a marker in the name";
  return undefined;
}

/** protoc reads text: content that is not UTF-8 (or starts with a BOM) is what decoding and encoding it gives. */
function asText(content: Uint8Array): Buffer {
  const b = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (isUtf8(b) && !(b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)) return b;
  return Buffer.from(encoder.encode(decoder.decode(b)));
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(nl); i >= 0; i = b.indexOf(nl, i + 1)) n++;
  return n;
}

/** Index of the last element of ascending `xs` that is ≤ x, or -1. */
function lastAtMost(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The insertion points asked of each file over every plugin's chunks. */
export function wantedPoints(
  outputs: readonly { files: readonly OutputChunk[] }[],
): Map<string, Set<string>> {
  const wanted = new Map<string, Set<string>>();
  for (const o of outputs) {
    for (const f of o.files) {
      if (f.insertionPoint === "") continue;
      const points = wanted.get(f.name);
      if (points) points.add(f.insertionPoint);
      else wanted.set(f.name, new Set([f.insertionPoint]));
    }
  }
  return wanted;
}

/** A tree being filled: its files and what they have used of the limits so far. */
interface TreeState {
  limits: OutputLimits;
  opts: OutputTreeOptions;
  maxInsertions: number;
  files: Map<string, Entry>;
  total: number;
  insertions: number;
  slowWork: number;
}

/** Adds `bytes` to the total before anything of that size is built. */
function grow(t: TreeState, plugin: string, bytes: number): void {
  if (t.total + bytes > t.limits.maxOutputBytes) throw tooBig(plugin, t.total + bytes, t.limits);
  t.total += bytes;
}

function spend(t: TreeState, work: number): void {
  t.slowWork += work;
  if (t.opts.maxSlowWork !== undefined && t.slowWork > t.opts.maxSlowWork) throw new MergeTooSlow();
}

function openFile(t: TreeState, plugin: string, name: string, content: Uint8Array): void {
  const existing = t.files.get(name);
  if (existing) {
    const by = existing.plugin === plugin ? "twice" : `that plugin ${existing.plugin} also generated`;
    throw fail(Code.Unprocessable, plugin, `generated ${name} ${by}`);
  }
  if (t.files.size >= t.limits.maxFiles) throw tooMany(plugin, t.limits);
  grow(t, plugin, content.byteLength);
  t.files.set(name, { content, plugin, size: content.byteLength });
}

/** The plan of a target at its first insertion: its text indexed once, its final size counted from there. */
function startPlan(t: TreeState, plugin: string, name: string, target: Entry): Planned {
  const orig = asText(target.content);
  grow(t, plugin, orig.byteLength - target.size);
  target.size = orig.byteLength;
  return {
    kind: "planned",
    orig,
    index: indexPoints(orig, t.opts.wanted ? (t.opts.wanted.get(name) ?? new Set()) : undefined),
    anchors: new Map(),
    lines: new Map(),
    first: Infinity,
    indents: new Map(),
  };
}

/**
 * Records an insertion in the plan when the index can place it: "placed", "not found" (no such marker), or
 * "unplannable" (the answer depends on inserted text: the slow path decides).
 */
function planInsertion(
  t: TreeState,
  plugin: string,
  target: Entry,
  planned: Planned,
  point: string,
  data: Buffer,
): "placed" | "not found" | "unplannable" {
  if (planProblem(point) !== undefined) return "unplannable";
  const k = planned.index.firstOf.get(Buffer.from(point).toString("latin1"));
  if (k === undefined) return "not found";
  if (data.byteLength === 0) return "placed";
  const at = data.includes(prefix) ? undefined : placeOf(planned, k);
  if (at === undefined) return "unplannable";
  const newline = data[data.byteLength - 1] !== nl;
  const size = data.byteLength + (newline ? 1 : 0) + (countNewlines(data) + (newline ? 1 : 0)) * at.indent;
  grow(t, plugin, size);
  target.size += size;
  const piece = { data, newline, indentFrom: at.pos, indent: at.indent };
  const pieces = planned.anchors.get(at.pos);
  if (pieces) {
    pieces.push(piece);
    return "placed";
  }
  planned.anchors.set(at.pos, [piece]);
  const line = planned.lines.get(at.line);
  if (line) line.splice(lastAtMost(line, at.pos) + 1, 0, at.pos);
  else planned.lines.set(at.line, [at.pos]);
  planned.first = Math.min(planned.first, at.pos);
  return "placed";
}

function insertInto(t: TreeState, plugin: string, name: string, point: string, content: Uint8Array): void {
  const target = t.files.get(name);
  if (!target)
    throw fail(Code.Unprocessable, plugin, `tried to insert into ${name}, which no plugin generated (yet)`);
  const notFound = () => fail(Code.Unprocessable, plugin, `insertion point "${point}" not found in ${name}`);
  target.merged ??= startPlan(t, plugin, name, target);
  const data = asText(content);
  if (target.merged.kind === "planned") {
    const planned = target.merged;
    const result = planInsertion(t, plugin, target, planned, point, data);
    if (result === "not found") throw notFound();
    if (result === "placed") return;
    spend(t, target.size);
    target.merged = { kind: "slow", bytes: buildPlanned(planned, target.size) };
  }
  const slow = target.merged;
  spend(t, slow.bytes.byteLength * 2 + data.byteLength);
  const next = applyInsertion(slow.bytes, point, data, (added) => {
    grow(t, plugin, added);
    target.size += added;
  });
  if (next === undefined) throw notFound();
  slow.bytes = next;
}

/**
 * Adds one plugin's files in response order. A chunk without a name continues the previous chunk, so the content
 * is joined before an insertion is applied, exactly as protoc streams it.
 */
function addChunks(t: TreeState, plugin: string, chunks: readonly OutputChunk[]): void {
  let current: { name: string; point: string; parts: Uint8Array[]; bytes: number } | undefined;
  const flush = () => {
    if (!current) return;
    const { name, point, parts, bytes } = current;
    current = undefined;
    // Every byte of it ends up in the output: refuse before joining the parts.
    if (t.total + bytes > t.limits.maxOutputBytes) throw tooBig(plugin, t.total + bytes, t.limits);
    const content = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, bytes);
    if (point === "") openFile(t, plugin, name, content);
    else insertInto(t, plugin, name, point, content);
  };
  for (const chunk of chunks) {
    if (chunk.name === "") {
      if (!current) throw fail(Code.Unprocessable, plugin, "returned a first file without a name");
      current.parts.push(chunk.content);
      current.bytes += chunk.content.byteLength;
      continue;
    }
    flush();
    checkPath(plugin, chunk.name);
    if (chunk.insertionPoint !== "" && ++t.insertions > t.maxInsertions)
      throw tooManyInsertions(plugin, t.maxInsertions);
    current = {
      name: chunk.name,
      point: chunk.insertionPoint,
      parts: [chunk.content],
      bytes: chunk.content.byteLength,
    };
  }
  flush();
}

export interface OutputTree {
  /** Adds one plugin's response files, in response order (insertions apply to files added before them). */
  add(plugin: string, chunks: readonly OutputChunk[]): void;
  /** The files, sorted by path (byte order); each built once, at the length counted for it. */
  files(): { path: string; content: Uint8Array }[];
}

export function createOutputTree(limits: OutputLimits, opts: OutputTreeOptions = {}): OutputTree {
  const t: TreeState = {
    limits,
    opts,
    maxInsertions: limits.maxInsertions ?? defaultMaxInsertions,
    files: new Map(),
    total: 0,
    insertions: 0,
    slowWork: 0,
  };
  return {
    add: (plugin, chunks) => addChunks(t, plugin, chunks),
    files: () =>
      [...t.files.keys()]
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .map((path) => {
          const entry = t.files.get(path) as Entry;
          const m = entry.merged;
          const content =
            m === undefined ? entry.content : m.kind === "planned" ? buildPlanned(m, entry.size) : m.bytes;
          return { path, content };
        }),
  };
}

/**
 * Where protoc's rule puts an insertion at the first marker `k` of a planned file, given the pieces inserted so
 * far: `pos` (pieces go right before `orig[pos]`, after those already there), the start of its line, and the
 * indentation. Undefined when the answer depends on inserted text (a piece right before the marker, or a marker
 * cut by an inline insertion): the slow path then decides.
 */
function placeOf(f: Planned, k: number): { pos: number; line: number; indent: number } | undefined {
  const { orig, index } = f;
  const m = index.starts[k] ?? 0;
  const line = index.lineStarts[k] ?? 0;
  if (f.anchors.has(m)) return undefined;
  // applyInsertion's inline test works on UTF-16 units: the unit before the marker, then "/*" before that.
  let c = m - 1;
  while (c > 0 && ((orig[c] ?? 0) & 0xc0) === 0x80) c--;
  const inline =
    m > 0 &&
    m - c < 4 &&
    c >= 2 &&
    orig[c - 1] === 0x2a &&
    orig[c - 2] === 0x2f &&
    !f.anchors.has(c) &&
    !f.anchors.has(c - 1) &&
    (c - 2 > 0 || f.first <= c - 2);
  if (inline) {
    const s = c - 2;
    if (!f.anchors.has(s) && mayContinueMarker(f, s, line)) return undefined;
    return { pos: s, line, indent: 0 };
  }
  // The line starts after the last piece on it before the marker (every piece ends with a newline).
  const onLine = f.lines.get(line);
  const last = onLine ? (onLine[lastAtMost(onLine, m)] ?? line) : line;
  if (last !== line) return { pos: last, line, indent: 0 };
  let indent = f.indents.get(line);
  if (indent === undefined) {
    indent = 0;
    while (orig[line + indent] === 0x20 || orig[line + indent] === 0x09) indent++;
    f.indents.set(line, indent);
  }
  return { pos: line, line, indent };
}

/**
 * Whether text inserted at `s` (inline, with no piece before it there) could complete a marker begun before it on
 * the same line: an unclosed `@@protoc_insertion_point(`, or the start of one, right before `s`.
 */
function mayContinueMarker(f: Planned, s: number, line: number): boolean {
  const { orig, index } = f;
  const onLine = f.lines.get(line);
  const from = Math.max(line, onLine ? (onLine[lastAtMost(onLine, s - 1)] ?? line) : line);
  const j = lastAtMost(index.starts, s - 1);
  if (j >= 0 && (index.starts[j] ?? 0) >= from && (index.parens[j] ?? 0) >= s) return true;
  for (let n = Math.min(prefix.length - 1, s - from); n > 0; n--) {
    if (orig.subarray(s - n, s).equals(prefix.subarray(0, n))) return true;
  }
  return false;
}

function buildPlanned(f: Planned, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let prev = 0;
  for (const pos of [...f.anchors.keys()].sort((a, b) => a - b)) {
    o += f.orig.copy(out, o, prev, pos);
    prev = pos;
    for (const piece of f.anchors.get(pos) ?? []) {
      const indent = f.orig.subarray(piece.indentFrom, piece.indentFrom + piece.indent);
      o = writePiece(out, o, piece.data, piece.newline, indent);
    }
  }
  o += f.orig.copy(out, o, prev);
  if (o !== size) throw new Error(`merge built ${o} bytes where ${size} were counted`);
  return out;
}

/** Writes inserted text at `at` with `indent` before every line and a final newline when it lacks one. */
function writePiece(out: Buffer, at: number, content: Uint8Array, newline: boolean, indent: Buffer): number {
  let o = at;
  const data = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  for (let start = 0; start < data.byteLength; ) {
    const end = data.indexOf(nl, start);
    o += indent.copy(out, o);
    o += data.copy(out, o, start, end < 0 ? data.byteLength : end + 1);
    start = end < 0 ? data.byteLength : end + 1;
  }
  if (newline) out[o++] = nl;
  return o;
}

/**
 * protoc's rule (command_line_interface.cc, MemoryOutputStream) on UTF-8 text: find the first
 * `@@protoc_insertion_point(NAME)`; when it is written inline as `/* @@protoc_insertion_point(NAME) *\/`, insert
 * right before the comment as is; otherwise insert before the start of its line, with that line's leading spaces
 * and tabs prefixed to every inserted line. The inserted text gets a final newline when it lacks one. (Whether the
 * marker is inline is decided on UTF-16 units, as the merge always did: the unit before the marker, then "/*",
 * then at least one more.) `grow` is told the bytes the insertion adds before the new text is built, and may throw.
 */
export function applyInsertion(
  target: Buffer,
  point: string,
  data: Buffer,
  grow?: (bytes: number) => void,
): Buffer | undefined {
  let pos = target.indexOf(Buffer.from(`@@protoc_insertion_point(${point})`));
  if (pos < 0) return undefined;
  if (data.byteLength === 0) return target;
  let c = pos - 1;
  while (c > 0 && ((target[c] ?? 0) & 0xc0) === 0x80) c--;
  if (pos > 0 && pos - c < 4 && c - 2 > 0 && target[c - 1] === 0x2a && target[c - 2] === 0x2f) pos = c - 2;
  else pos = pos === 0 ? 0 : target.lastIndexOf(nl, pos - 1) + 1;
  let indent = 0;
  while (target[pos + indent] === 0x20 || target[pos + indent] === 0x09) indent++;
  const newline = data[data.byteLength - 1] !== nl;
  const size = data.byteLength + (newline ? 1 : 0) + (countNewlines(data) + (newline ? 1 : 0)) * indent;
  grow?.(size);
  const out = Buffer.allocUnsafe(target.byteLength + size);
  target.copy(out, 0, 0, pos);
  const o = writePiece(out, pos, data, newline, target.subarray(pos, pos + indent));
  target.copy(out, o, pos);
  return out;
}
