// The files of an image (a FileDescriptorSet) read at the wire level: each file's name, imports, syntax and its
// encoded bytes, without decoding the descriptors. A large module's image is mostly source info (comments); a
// full decode of one 60-file, 22 MB image cost 1.1 s and 300 MB, a scan costs milliseconds and no copies (the
// bytes are views into the image). Code that needs the descriptors decodes only the files it needs.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export interface ImageFile {
  name: string;
  /** `dependency`: the files it imports, as written. */
  dependency: string[];
  /** `syntax`: "" (proto2), "proto2", "proto3" or "editions". */
  syntax: string;
  /** `edition` (an Edition enum number), 0 when unset. */
  edition: number;
  /** Declares an extension (at top level or in a message): it may define custom options. */
  declaresExtensions: boolean;
  /** The encoded FileDescriptorProto, a view into the image. */
  bytes: Uint8Array;
}

// Field numbers of descriptor.proto.
const setFile = 1;
const fileName = 1;
const fileDependency = 3;
const fileMessageType = 4;
const fileExtension = 7;
const fileSourceCodeInfo = 9;
const fileSyntax = 12;
const fileEdition = 14;
const messageNestedType = 3;
const messageExtension = 6;

/** Every file of a FileDescriptorSet, in the set's order. */
export function scanImage(image: Uint8Array): ImageFile[] {
  const files: ImageFile[] = [];
  const reader = new BinaryReader(image);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === setFile && wire === WireType.LengthDelimited) files.push(scanFile(reader.bytes()));
    else reader.skip(wire, no);
  }
  return files;
}

function scanFile(bytes: Uint8Array): ImageFile {
  const file: ImageFile = {
    name: "",
    dependency: [],
    syntax: "",
    edition: 0,
    declaresExtensions: false,
    bytes,
  };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === fileName && wire === WireType.LengthDelimited) file.name = reader.string();
    else if (no === fileDependency && wire === WireType.LengthDelimited)
      file.dependency.push(reader.string());
    else if (no === fileSyntax && wire === WireType.LengthDelimited) file.syntax = reader.string();
    else if (no === fileEdition && wire === WireType.Varint) file.edition = reader.int32();
    else if (no === fileExtension) {
      file.declaresExtensions = true;
      reader.skip(wire, no);
    } else if (no === fileMessageType && wire === WireType.LengthDelimited) {
      if (messageDeclaresExtensions(reader.bytes())) file.declaresExtensions = true;
    } else reader.skip(wire, no);
  }
  return file;
}

function messageDeclaresExtensions(bytes: Uint8Array, depth = 0): boolean {
  // descriptor.proto nests no deeper than a compiler allows; a hostile image does not get to recurse forever.
  if (depth > 100) throw new Error("image: messages nested more than 100 deep");
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (no === messageExtension) return true;
    if (no === messageNestedType && wire === WireType.LengthDelimited) {
      if (messageDeclaresExtensions(reader.bytes(), depth + 1)) return true;
    } else reader.skip(wire, no);
  }
  return false;
}

/**
 * A file's encoded FileDescriptorProto without its source info (`source_code_info`): every other field's bytes
 * as they were, in their order. Decoding this is cheap even for a heavily commented file.
 */
export function withoutSourceInfo(bytes: Uint8Array): Uint8Array {
  const kept: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  let size = 0;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [no, wire] = reader.tag();
    reader.skip(wire, no);
    if (no === fileSourceCodeInfo) continue;
    const span = bytes.subarray(start, reader.pos);
    kept.push(span);
    size += span.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const span of kept) {
    out.set(span, at);
    at += span.byteLength;
  }
  return out;
}
