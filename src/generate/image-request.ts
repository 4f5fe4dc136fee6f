// Builds a plugin's CodeGeneratorRequest from an image a client compiled (buf's remote plugins), as buf builds it
// for a local plugin: the same bytes reach the plugin either way, so the output is the same.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CodeGeneratorRequestSchema,
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, RegistryError } from "../core/errors.js";
import { type Image, ImageFileSchema } from "../gen/buf/alpha/image/v1/image_pb.js";
import { type FileToGenerate, sourceRetentionStripper } from "./request.js";

export interface ImageFile {
  proto: FileDescriptorProto;
  /** In the image only because another file imports it. */
  isImport: boolean;
}

/**
 * The files of a buf image. Each is a FileDescriptorProto on the wire plus buf's field 8042; our ImageFile declares
 * only that field, so the descriptor fields arrive as unknown fields, and writing them out without buf's field
 * gives the FileDescriptorProto exactly as buf compiled it.
 */
export function fromBufImage(image: Image): ImageFile[] {
  return image.file.map((file) => {
    const { bufExtension, ...descriptor } = file;
    return {
      proto: fromBinary(FileDescriptorProtoSchema, toBinary(ImageFileSchema, descriptor)),
      isImport: bufExtension?.isImport === true,
    };
  });
}

export interface ImageRequestOptions {
  parameter: string;
  /** Generate the imports too (buf's --include-imports, `include_imports: true`). */
  includeImports: boolean;
  /** With includeImports, also the well-known types. */
  includeWellKnownTypes: boolean;
}

/** The files buf ships as well-known types: left out of file_to_generate unless asked for. */
const wellKnownTypes: ReadonlySet<string> = new Set(
  [
    "any",
    "api",
    "compiler/plugin",
    "cpp_features",
    "descriptor",
    "duration",
    "empty",
    "field_mask",
    "go_features",
    "java_features",
    "source_context",
    "struct",
    "timestamp",
    "type",
    "wrappers",
  ].map((f) => `google/protobuf/${f}.proto`),
);

export interface ImageRequest {
  /** CodeGeneratorRequest bytes. */
  request: Uint8Array;
  /** What the plugin's supported_features must cover. */
  filesToGenerate: readonly FileToGenerate[];
}

/** Checks the image is in dependency order with every import present, as buf's images are. */
export function checkImage(files: readonly ImageFile[]): void {
  const seen = new Set<string>();
  for (const { proto } of files) {
    if (proto.name === "") throw new RegistryError(Code.InvalidArgument, "image has a file without a name");
    if (seen.has(proto.name)) throw new RegistryError(Code.InvalidArgument, `image has ${proto.name} twice`);
    for (const dep of proto.dependency) {
      if (!seen.has(dep))
        throw new RegistryError(
          Code.InvalidArgument,
          `image is not in dependency order: ${proto.name} imports ${dep}, which does not come before it`,
        );
    }
    seen.add(proto.name);
  }
}

/**
 * file_to_generate: the image's files that are not imports, plus its imports when asked (the well-known types
 * only when asked for those too), in image order; proto_file: every file of the image, in image order, the files
 * to generate without source-retention options; source_file_descriptors: the files to generate as compiled.
 * compiler_version stays unset and an empty parameter unset, as local `buf generate` leaves them.
 */
export function createImageRequestBuilder(files: readonly ImageFile[]) {
  checkImage(files);
  const strip = sourceRetentionStripper(files.map((f) => f.proto)) ?? ((f: FileDescriptorProto) => f);
  return {
    build(opts: ImageRequestOptions): ImageRequest {
      const generate = files.filter(
        (f) =>
          !f.isImport ||
          (opts.includeImports && (opts.includeWellKnownTypes || !wellKnownTypes.has(f.proto.name))),
      );
      const wanted = new Set(generate.map((f) => f.proto.name));
      const request = create(CodeGeneratorRequestSchema, {
        fileToGenerate: generate.map((f) => f.proto.name),
        protoFile: files.map((f) => (wanted.has(f.proto.name) ? strip(f.proto) : f.proto)),
        sourceFileDescriptors: generate.map((f) => f.proto),
        ...(opts.parameter !== "" ? { parameter: opts.parameter } : {}),
      });
      return {
        request: toBinary(CodeGeneratorRequestSchema, request),
        filesToGenerate: generate.map(({ proto }) => ({
          name: proto.name,
          syntax: proto.syntax,
          edition: proto.edition,
          usesProto3Optional: () => usesProto3Optional(proto.messageType),
        })),
      };
    },
  };
}

function usesProto3Optional(messages: readonly DescriptorProto[]): boolean {
  return messages.some((m) => m.field.some((f) => f.proto3Optional) || usesProto3Optional(m.nestedType));
}
