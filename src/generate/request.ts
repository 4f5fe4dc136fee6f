// Builds the CodeGeneratorRequest for a commit's image exactly as `buf generate` does, and picks files per scope.
import {
  clone,
  create,
  type DescMessage,
  fromBinary,
  type Message,
  toBinary,
  type UnknownField,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  EnumOptionsSchema,
  EnumValueOptionsSchema,
  ExtensionRangeOptionsSchema,
  type FieldDescriptorProto,
  FieldOptions_OptionRetention,
  FieldOptionsSchema,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileOptionsSchema,
  MessageOptionsSchema,
  MethodOptionsSchema,
  OneofOptionsSchema,
  ServiceOptionsSchema,
  type Version,
  VersionSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, RegistryError } from "../core/errors.js";
import { type ImageFile, scanImage, withoutSourceInfo } from "../core/image-files.js";
import type { Scope } from "../core/types.js";

export interface BuildRequestInput {
  /** FileDescriptorSet bytes (`buf build --as-file-descriptor-set`): all files, dependency order, source info. */
  image: Uint8Array;
  fileToGenerate: readonly string[];
  parameter: string;
  /** `1.75.0`-like; empty leaves compiler_version unset, as local `buf generate` does. */
  compilerVersion: string;
}

/**
 * proto_file: every file the files to generate need (transitively), nothing more, in dependency order, with
 * source-retention options removed; source_file_descriptors: the files to generate as written, options and all.
 * file_to_generate follows the image's order, whatever order the caller gave, as buf does.
 */
export function buildRequest(input: BuildRequestInput): Uint8Array {
  return createRequestBuilder(input).build(input.parameter);
}

/** What the checks of a plugin's supported features need to know of a file to generate. */
export interface FileToGenerate {
  name: string;
  syntax: string;
  edition: number;
  /** Decodes the file (once) to look for proto3 `optional` fields. */
  usesProto3Optional(): boolean;
}

export interface RequestBuilder {
  /** The files to generate, in request order. */
  filesToGenerate: readonly FileToGenerate[];
  /** The request bytes for one plugin's parameter. */
  build(parameter: string): Uint8Array;
  /** The same bytes as parts in order, mostly views into the image: what a plugin's stdin is written from. */
  parts(parameter: string): Uint8Array[];
}

// Field numbers of CodeGeneratorRequest, written in ascending order as protobuf-es writes them.
const reqFileToGenerate = 1;
const reqParameter = 2;
const reqCompilerVersion = 3;
const reqProtoFile = 15;
const reqSourceFileDescriptors = 17;

/**
 * Scans the image once for every plugin of a generation; only the parameter differs between them. The request is
 * assembled from the image's own encoded files: nothing is decoded unless a file declares extensions (custom
 * options whose retention may need stripping), and then only what the stripping needs.
 */
export function createRequestBuilder(input: Omit<BuildRequestInput, "parameter">): RequestBuilder {
  const files = scanImage(input.image);
  const byName = new Map(files.map((f) => [f.name, f]));
  const wanted = new Set(input.fileToGenerate);
  for (const name of wanted) {
    if (!byName.has(name)) throw new RegistryError(Code.InvalidArgument, `file ${name} is not in the image`);
  }
  const needed = closure(wanted, byName);
  const ordered = dependencyOrder(
    files.filter((f) => needed.has(f.name)),
    byName,
  );
  const toGenerate = ordered.filter((f) => wanted.has(f.name));

  const strip = sourceRetentionStripper(
    files.filter((f) => f.declaresExtensions).map((f) => fromBinary(FileDescriptorProtoSchema, f.bytes)),
  );
  const protoFile = strip
    ? ordered.map((f) =>
        toBinary(FileDescriptorProtoSchema, strip(fromBinary(FileDescriptorProtoSchema, f.bytes))),
      )
    : ordered.map((f) => f.bytes);

  // Tags and lengths are written here; the files' bytes are views into the image, copied once per request.
  const field = (no: number, bytes: Uint8Array) => [
    new BinaryWriter().tag(no, WireType.LengthDelimited).uint32(bytes.byteLength).finish(),
    bytes,
  ];
  const encoder = new TextEncoder();
  const before = toGenerate.flatMap((f) => field(reqFileToGenerate, encoder.encode(f.name)));
  const after = [
    ...(input.compilerVersion === ""
      ? []
      : field(reqCompilerVersion, toBinary(VersionSchema, parseCompilerVersion(input.compilerVersion)))),
    ...protoFile.flatMap((bytes) => field(reqProtoFile, bytes)),
    ...toGenerate.flatMap((f) => field(reqSourceFileDescriptors, f.bytes)),
  ];

  // parameter has presence (proto2): an empty one is left unset, as buf does.
  const parts = (parameter: string) => [
    ...before,
    ...(parameter === "" ? [] : field(reqParameter, encoder.encode(parameter))),
    ...after,
  ];

  return {
    filesToGenerate: toGenerate.map((f) => {
      let optional: boolean | undefined;
      return {
        name: f.name,
        syntax: f.syntax,
        edition: f.edition,
        usesProto3Optional: () =>
          (optional ??= usesProto3Optional(
            fromBinary(FileDescriptorProtoSchema, withoutSourceInfo(f.bytes)).messageType,
          )),
      };
    }),
    parts,
    build(parameter) {
      const all = parts(parameter);
      const out = new Uint8Array(all.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const part of all) {
        out.set(part, at);
        at += part.byteLength;
      }
      return out;
    },
  };
}

function usesProto3Optional(messages: readonly DescriptorProto[]): boolean {
  return messages.some((m) => m.field.some((f) => f.proto3Optional) || usesProto3Optional(m.nestedType));
}

/** `1.75.0` → {1, 75, 0, ""}, `v1.2.3-rc.1` → {1, 2, 3, "rc.1"}, like buf's own version. */
export function parseCompilerVersion(version: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-(.+))?$/.exec(version.trim());
  if (!m)
    throw new RegistryError(Code.Internal, `compiler version "${version}" is not major.minor.patch[-suffix]`);
  return create(VersionSchema, {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    suffix: m[4] ?? "",
  });
}

export interface ScopeFiles {
  /** The module's own .proto files. */
  moduleFiles: readonly string[];
  /** Every dependency module's .proto files (whether the image holds them or not). */
  depFiles: readonly string[];
  /** Every file of the image. */
  allFiles: readonly string[];
}

/**
 * The files to generate for a scope, sorted: `module` the module's files; `imports` also the dependency modules'
 * files the image holds (those the module imports); `imports_wkt` every file of the image, so also
 * `google/protobuf/*` and any other file compiled in.
 */
export function filesForScope(args: ScopeFiles, scope: Scope): string[] {
  const inImage = new Set(args.allFiles);
  const own = args.moduleFiles.filter((f) => inImage.has(f));
  switch (scope) {
    case "module":
      return sorted(own);
    case "imports":
      return sorted([...own, ...args.depFiles.filter((f) => inImage.has(f))]);
    case "imports_wkt":
      return sorted(args.allFiles);
  }
}

const sorted = (xs: readonly string[]) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function closure(roots: ReadonlySet<string>, byName: ReadonlyMap<string, ImageFile>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const file = byName.get(name);
    if (!file) throw new RegistryError(Code.Internal, `image is missing ${name}, an import`);
    stack.push(...file.dependency);
  }
  return seen;
}

/** Keeps the image's order when it is already a dependency order (buf's images are); else a stable DFS order. */
function dependencyOrder(files: readonly ImageFile[], byName: ReadonlyMap<string, ImageFile>): ImageFile[] {
  const position = new Map(files.map((f, i) => [f.name, i]));
  const ordered = files.every((f) =>
    f.dependency.every((d) => (position.get(d) ?? Infinity) < (position.get(f.name) ?? 0)),
  );
  if (ordered) return [...files];
  const out: ImageFile[] = [];
  const done = new Set<string>();
  const visit = (f: ImageFile) => {
    if (done.has(f.name)) return;
    done.add(f.name);
    for (const d of f.dependency) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    out.push(f);
  };
  files.forEach(visit);
  return out;
}

type Options = { $unknown?: UnknownField[] | undefined };

/** Extendee type name → numbers of its extensions declared `retention = RETENTION_SOURCE`. */
function sourceRetained(files: readonly FileDescriptorProto[]): Map<string, Set<number>> {
  const drop = new Map<string, Set<number>>();
  const collect = (exts: readonly FieldDescriptorProto[]) => {
    for (const e of exts) {
      if (e.options?.retention !== FieldOptions_OptionRetention.RETENTION_SOURCE) continue;
      const extendee = e.extendee.replace(/^\./, "");
      const set = drop.get(extendee) ?? new Set<number>();
      set.add(e.number);
      drop.set(extendee, set);
    }
  };
  const collectMessages = (msgs: readonly DescriptorProto[]) => {
    for (const m of msgs) {
      collect(m.extension);
      collectMessages(m.nestedType);
    }
  };
  for (const f of files) {
    collect(f.extension);
    collectMessages(f.messageType);
  }
  return drop;
}

type OptionsOwner = { options?: (Message & Options) | undefined };
type OptionsVisit = (owner: OptionsOwner, schema: DescMessage, optionsPath: number[]) => void;

/**
 * Calls `visit` for every element of a file that may carry options, with the source info path of its options.
 * Paths follow descriptor.proto's field numbers (e.g. DescriptorProto: field 2, nested_type 3, options 7).
 */
function walkOptions(file: FileDescriptorProto, visit: OptionsVisit): void {
  const fields = (fs: readonly FieldDescriptorProto[], path: number[]) => {
    for (const [i, f] of fs.entries()) visit(f, FieldOptionsSchema, [...path, i, 8]);
  };
  const enums = (es: readonly EnumDescriptorProto[], path: number[]) => {
    for (const [i, e] of es.entries()) {
      visit(e, EnumOptionsSchema, [...path, i, 3]);
      for (const [j, v] of e.value.entries()) visit(v, EnumValueOptionsSchema, [...path, i, 2, j, 2]);
    }
  };
  const messages = (ms: readonly DescriptorProto[], path: number[]) => {
    for (const [i, m] of ms.entries()) {
      const at = [...path, i];
      visit(m, MessageOptionsSchema, [...at, 7]);
      fields(m.field, [...at, 2]);
      messages(m.nestedType, [...at, 3]);
      enums(m.enumType, [...at, 4]);
      for (const [j, r] of m.extensionRange.entries())
        visit(r, ExtensionRangeOptionsSchema, [...at, 5, j, 3]);
      fields(m.extension, [...at, 6]);
      for (const [j, o] of m.oneofDecl.entries()) visit(o, OneofOptionsSchema, [...at, 8, j, 2]);
    }
  };
  // FileDescriptorProto: options 8, message_type 4, enum_type 5, service 6, extension 7.
  visit(file, FileOptionsSchema, [8]);
  messages(file.messageType, [4]);
  enums(file.enumType, [5]);
  for (const [i, svc] of file.service.entries()) {
    visit(svc, ServiceOptionsSchema, [6, i, 3]);
    for (const [j, m] of svc.method.entries()) visit(m, MethodOptionsSchema, [6, i, 2, j, 4]);
  }
  fields(file.extension, [7]);
}

/** A copy of `original` without the dropped options, and without the source locations of what was removed. */
function stripFile(
  original: FileDescriptorProto,
  drop: ReadonlyMap<string, ReadonlySet<number>>,
): FileDescriptorProto {
  const file = clone(FileDescriptorProtoSchema, original);
  // Source info paths of what was removed: their locations go too, as protocompile (buf) does.
  const removed: number[][] = [];
  walkOptions(file, (owner, schema, optionsPath) => {
    const options = owner.options;
    const numbers = drop.get(schema.typeName);
    if (!options?.$unknown || !numbers) return;
    const kept: UnknownField[] = [];
    for (const u of options.$unknown) {
      if (numbers.has(u.no)) removed.push([...optionsPath, u.no]);
      else kept.push(u);
    }
    if (kept.length === options.$unknown.length) return;
    options.$unknown = kept;
    // An options message left empty goes away entirely, so the plugin sees no options at all.
    if (toBinary(schema, options).length === 0) {
      delete owner.options;
      removed.push(optionsPath);
    }
  });
  if (removed.length > 0 && file.sourceCodeInfo) {
    file.sourceCodeInfo.location = file.sourceCodeInfo.location.filter(
      (l) => !removed.some((r) => r.length <= l.path.length && r.every((n, k) => l.path[k] === n)),
    );
  }
  return file;
}

/**
 * Removes custom options declared `retention = RETENTION_SOURCE` from a copy of a file, as protoc and buf do
 * for proto_file. Covers options set directly on every kind of element; source-retention fields nested inside
 * a message-typed option stay (protoc strips those too, they are rare enough to leave for later).
 */
export function sourceRetentionStripper(
  files: readonly FileDescriptorProto[],
): ((f: FileDescriptorProto) => FileDescriptorProto) | undefined {
  const drop = sourceRetained(files);
  if (drop.size === 0) return undefined;
  return (original) => stripFile(original, drop);
}
