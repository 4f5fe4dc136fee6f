// Plugin requests over an image a client compiled (buf's remote plugins). buf's image is a FileDescriptorSet on
// the wire with an is_import mark on each file; the requests are built by the same builder as every generation
// (request.ts), from the files' encoded bytes, so the same bytes reach the plugin as with a local `buf generate`.
import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, RegistryError } from "../core/errors.js";
import { scanImage } from "../core/image-files.js";
import { type Image, ImageFileSchema } from "../gen/buf/alpha/image/v1/image_pb.js";
import { createRequestBuilder, type FileToGenerate, type RequestBuilder } from "./request.js";

export interface ImageFile {
  /** The encoded FileDescriptorProto, without buf's own field. */
  bytes: Uint8Array;
  /** In the image only because another file imports it. */
  isImport: boolean;
}

/**
 * The files of a buf image. Each is a FileDescriptorProto on the wire plus buf's field 8042; our ImageFile declares
 * only that field, so the descriptor's fields arrive as unknown fields, and writing them out without buf's field
 * gives the FileDescriptorProto's bytes as buf encoded them, never decoded.
 */
export function fromBufImage(image: Image): ImageFile[] {
  return image.file.map((file) => {
    const { bufExtension, ...descriptor } = file;
    return { bytes: toBinary(ImageFileSchema, descriptor), isImport: bufExtension?.isImport === true };
  });
}

export interface ImageRequestOptions {
  parameter: string;
  /** Generate the imports too (buf's --include-imports, `include_imports: true`). */
  includeImports: boolean;
  /** With includeImports, also the well-known types. */
  includeWellKnownTypes: boolean;
}

export interface ImageRequest {
  /** CodeGeneratorRequest bytes. */
  request: Uint8Array;
  /** What the plugin's supported_features must cover. */
  filesToGenerate: readonly FileToGenerate[];
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

/** Refuses an image buf would never send: a file without a name or twice, or before a file it imports. */
export function checkImage(files: readonly { name: string; dependency: readonly string[] }[]): void {
  const seen = new Set<string>();
  for (const { name, dependency } of files) {
    if (name === "") throw new RegistryError(Code.InvalidArgument, "image has a file without a name");
    if (seen.has(name)) throw new RegistryError(Code.InvalidArgument, `image has ${name} twice`);
    for (const dep of dependency) {
      if (!seen.has(dep))
        throw new RegistryError(
          Code.InvalidArgument,
          `image is not in dependency order: ${name} imports ${dep}, which does not come before it`,
        );
    }
    seen.add(name);
  }
}

/**
 * file_to_generate: the image's files that are not imports, plus its imports when asked (the well-known types
 * only when asked for those too), in image order; proto_file: every file they need, in image order, without
 * source-retention options; source_file_descriptors: the files to generate as compiled; an empty parameter and
 * compiler_version unset, as local `buf generate` leaves them.
 */
export function createImageRequestBuilder(files: readonly ImageFile[]) {
  const parts = files.flatMap((f) => [
    new BinaryWriter().tag(1, WireType.LengthDelimited).uint32(f.bytes.byteLength).finish(),
    f.bytes,
  ]);
  const image = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    image.set(part, at);
    at += part.byteLength;
  }
  const scanned = scanImage(image);
  checkImage(scanned);
  // One builder per combination of flags (at most three), shared by the plugins that use it.
  const builders = new Map<string, RequestBuilder>();
  return {
    build(opts: ImageRequestOptions): ImageRequest {
      const key = `${opts.includeImports}/${opts.includeWellKnownTypes}`;
      let builder = builders.get(key);
      if (!builder) {
        const fileToGenerate = scanned
          .filter(
            (f, i) =>
              files[i]?.isImport !== true ||
              (opts.includeImports && (opts.includeWellKnownTypes || !wellKnownTypes.has(f.name))),
          )
          .map((f) => f.name);
        builder = createRequestBuilder({ image, fileToGenerate, compilerVersion: "" });
        builders.set(key, builder);
      }
      return { request: builder.build(opts.parameter), filesToGenerate: builder.filesToGenerate };
    },
  };
}
