// Parts of a stored image (a FileDescriptorSet) as a FileDescriptorSet of its own: the files a reader asked for,
// with or without their imports and source info, chosen and re-encoded at the wire level (no descriptor decode,
// see image-files.ts for why).
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, RegistryError } from "./errors.js";
import { type ImageFile, withoutSourceInfo } from "./image-files.js";

export interface DescriptorSetOptions {
  /** Add every file the chosen files import, transitively (dependency modules and well-known types). */
  imports: boolean;
  /** Keep each file's source_code_info (comments and spans): often most of the bytes. */
  sourceInfo: boolean;
}

/** Most symbols one request may name: each is matched against every file of the image. */
export const maxSymbols = 256;

/** A fully-qualified Protobuf name without a leading dot: `acme.v1.Order`, `acme.v1.OrderService.Get`. */
const symbolName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * The files named by `roots` (in the image's order, which is dependency order) and, with `imports`, every file
 * they import. A root the image lacks is a programming error of the caller, not a user's: it is skipped.
 */
export function selectFiles(
  image: readonly ImageFile[],
  roots: Iterable<string>,
  imports: boolean,
): ImageFile[] {
  const wanted = new Set(roots);
  if (imports) {
    const byName = new Map(image.map((f) => [f.name, f]));
    const pending = [...wanted];
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      for (const dep of byName.get(name)?.dependency ?? []) {
        if (!wanted.has(dep)) {
          wanted.add(dep);
          pending.push(dep);
        }
      }
    }
  }
  return image.filter((f) => wanted.has(f.name));
}

/**
 * The files that declare the symbols: a package names every file of it; a message, enum, service or extension
 * names its file, and so does anything nested in it (a nested message, a field, a method). Refuses a malformed
 * name (InvalidArgument) and one no file declares (FailedPrecondition), as BSR's reflection API does.
 */
export function filesDeclaring(image: readonly ImageFile[], symbols: readonly string[]): string[] {
  if (symbols.length > maxSymbols) {
    throw new RegistryError(
      Code.InvalidArgument,
      `${symbols.length} symbols asked for; at most ${maxSymbols} per request`,
    );
  }
  for (const s of symbols) {
    if (!symbolName.test(s)) {
      throw new RegistryError(
        Code.InvalidArgument,
        `"${s.slice(0, 200)}" is not a fully-qualified Protobuf name (like acme.v1.Order, without a leading dot)`,
      );
    }
  }
  const declared = image.map((f) => ({ name: f.name, ...declarations(f.bytes) }));
  const found = new Set<string>();
  for (const s of symbols) {
    const files = declared.filter(
      (d) => d.pkg === s || d.names.some((n) => s === n || s.startsWith(`${n}.`)),
    );
    if (files.length === 0) {
      throw new RegistryError(Code.FailedPrecondition, `no file of the module declares the symbol ${s}`);
    }
    for (const f of files) found.add(f.name);
  }
  return [...found];
}

/** The files as an encoded FileDescriptorSet, in the given order. */
export function encodeDescriptorSet(files: readonly ImageFile[], sourceInfo: boolean): Uint8Array {
  const writer = new BinaryWriter();
  for (const f of files) {
    writer.tag(1, WireType.LengthDelimited).bytes(sourceInfo ? f.bytes : withoutSourceInfo(f.bytes));
  }
  return writer.finish();
}

// Field numbers of descriptor.proto.
const filePackage = 2;
const fileTopLevel = new Set([4, 5, 6, 7]); // message_type, enum_type, service, extension
const declName = 1; // `name` of DescriptorProto, EnumDescriptorProto, ServiceDescriptorProto, FieldDescriptorProto

/** A file's package and the fully-qualified names of its top-level declarations. */
function declarations(bytes: Uint8Array): { pkg: string; names: string[] } {
  let pkg = "";
  const local: string[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === filePackage && wire === WireType.LengthDelimited) pkg = reader.string();
    else if (fileTopLevel.has(no) && wire === WireType.LengthDelimited) local.push(nameOf(reader.bytes()));
    else reader.skip(wire, no);
  }
  return { pkg, names: local.map((n) => (pkg ? `${pkg}.${n}` : n)) };
}

function nameOf(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === declName && wire === WireType.LengthDelimited) return reader.string();
    reader.skip(wire, no);
  }
  return "";
}
