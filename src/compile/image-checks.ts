// Checks of a compiled image that buf does not make: messages nested too deep, and a symbol defined twice. Pure
// functions over the image bytes; the compiler runs them in a worker thread (image-check-thread.ts).
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, RegistryError } from "../core/errors.js";
import { scanImage, withoutSourceInfo } from "../core/image-files.js";

/**
 * Messages nested deeper than this are refused: descriptors decode within protobuf's usual recursion limit of 100
 * (protobuf-es and C++ plugins alike) only with room for the file, the request, fields and their options.
 */
export const maxMessageNesting = 64;

/**
 * Throws RegistryError InvalidArgument when the image nests messages too deep or defines a symbol twice.
 * `owners` maps each path to "the module" or the dependency that has it, for messages.
 */
export function checkImage(image: Uint8Array, owners: ReadonlyMap<string, string>): void {
  checkNesting(image, owners);
  // Decoded without source info: symbols are all it needs, and comments are most of a large image.
  checkUniqueSymbols(
    scanImage(image).map((f) => fromBinary(FileDescriptorProtoSchema, withoutSourceInfo(f.bytes))),
    owners,
  );
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

/**
 * Refuses messages nested more than maxMessageNesting deep, naming the file and the message, before anything
 * decodes the image (its descriptors would pass protobuf's recursion limit). A walk over the wire format that
 * descends into nested messages only.
 */
function checkNesting(image: Uint8Array, owners: ReadonlyMap<string, string>): void {
  const set = new BinaryReader(image);
  while (set.pos < set.len) {
    const [no, wire] = set.tag();
    if (no !== 1 || wire !== WireType.LengthDelimited) {
      set.skip(wire, no);
      continue;
    }
    const file = new BinaryReader(set.bytes());
    let name = "";
    let pkg = "";
    let deep: string | undefined;
    while (file.pos < file.len && deep === undefined) {
      const [fno, fwire] = file.tag();
      if (fno === 1 && fwire === WireType.LengthDelimited) name = file.string();
      else if (fno === 2 && fwire === WireType.LengthDelimited) pkg = file.string();
      else if (fno === 4 && fwire === WireType.LengthDelimited) deep = tooDeep(file.bytes(), 1);
      else file.skip(fwire, fno);
    }
    if (deep === undefined) continue;
    // The name is read to the end: it may come after the messages.
    while (file.pos < file.len && name === "") {
      const [fno, fwire] = file.tag();
      if (fno === 1 && fwire === WireType.LengthDelimited) name = file.string();
      else file.skip(fwire, fno);
    }
    const owner = owners.get(name);
    const label = owner === undefined || owner === "the module" ? name : `${owner}: ${name}`;
    throw new RegistryError(
      Code.InvalidArgument,
      `module does not compile: ${label} nests messages more than ${maxMessageNesting} deep`,
      {
        details: [
          `${label}: message ${pkg ? `${pkg}.` : ""}${deep} is nested more than ${maxMessageNesting} deep`,
        ],
      },
    );
  }
}

/** The dotted name of the first message nested deeper than allowed within this DescriptorProto, if any. */
function tooDeep(bytes: Uint8Array, depth: number): string | undefined {
  const reader = new BinaryReader(bytes);
  let name = "";
  let found: string | undefined;
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === 1 && wire === WireType.LengthDelimited) name = reader.string();
    else if (no === 3 && wire === WireType.LengthDelimited && found === undefined) {
      const nested = reader.bytes();
      // The nested message itself is one level too many: its name is what the error shows.
      found = depth >= maxMessageNesting ? (readName(nested) ?? "") : tooDeep(nested, depth + 1);
    } else reader.skip(wire, no);
  }
  return found === undefined ? undefined : `${name}.${found}`;
}

function readName(bytes: Uint8Array): string | undefined {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === 1 && wire === WireType.LengthDelimited) return reader.string();
    reader.skip(wire, no);
  }
  return undefined;
}
