// buf.alpha.registry.v1alpha1.CodeGenerationService: `buf generate` with `remote:` plugins of this registry.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import {
  type ImageFile as ImageFileMessage,
  ImageFileSchema,
} from "../../gen/buf/alpha/image/v1/image_pb.js";
import type { CodeGenerationService } from "../../gen/buf/alpha/registry/v1alpha1/plugin_curation_pb.js";
import type { ImageFile } from "../../generate/image-request.js";
import type { RemotePluginService } from "../../services/remote-plugins.js";

/**
 * An image file is a FileDescriptorProto on the wire plus buf's field 8042; the descriptor fields arrived as
 * unknown fields of our ImageFile, so writing them out without buf's field gives the FileDescriptorProto.
 */
function imageFile(file: ImageFileMessage): ImageFile {
  const { bufExtension, ...rest } = file;
  return {
    proto: fromBinary(FileDescriptorProtoSchema, toBinary(ImageFileSchema, rest)),
    isImport: bufExtension?.isImport === true,
  };
}

export function createCodeGenerationService(
  remote: RemotePluginService,
): ServiceImpl<typeof CodeGenerationService> {
  return {
    async generateCode(req, ctx) {
      const caller = await principal(ctx);
      const requests = req.requests.map((r, i) => {
        const ref = r.pluginReference;
        if (!ref || ref.owner === "" || ref.name === "")
          throw new RegistryError(Code.InvalidArgument, `request ${i} names no plugin (owner and name)`);
        return {
          owner: ref.owner,
          name: ref.name,
          version: ref.version,
          revision: ref.revision,
          options: r.options,
          includeImports: r.includeImports ?? req.includeImports,
          includeWellKnownTypes: r.includeWellKnownTypes ?? req.includeWellKnownTypes,
        };
      });
      const files = (req.image?.file ?? []).map(imageFile);
      const responses = await remote.generateCode(caller, { files, requests }, ctx.signal);
      return { responses: responses.map((response) => ({ response })) };
    },
  };
}
