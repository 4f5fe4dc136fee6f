// buf.reflect.v1beta1.FileDescriptorSetService: BSR's reflection API, a module's schema at a label or commit as a
// FileDescriptorSet (imports included, no source info), optionally cut to the files some symbols need.
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import type { FileDescriptorSetService } from "../../gen/buf/reflect/v1beta1/file_descriptor_set_pb.js";
import type { DescriptorService } from "../../services/descriptors.js";

export function createFileDescriptorSetService(
  descriptors: DescriptorService,
): ServiceImpl<typeof FileDescriptorSetService> {
  return {
    async getFileDescriptorSet(req, ctx) {
      const caller = await principal(ctx);
      if (req.module === "") {
        throw new RegistryError(
          Code.InvalidArgument,
          "module is required: HOST/OWNER/MODULE (or OWNER/MODULE)",
        );
      }
      const name = parseFullName("module", req.module, { allowHost: true });
      const { commit, bytes } = await descriptors.descriptorSet(caller, name, {
        ref: req.version,
        symbols: req.symbols,
        imports: true,
        sourceInfo: false,
      });
      return { fileDescriptorSet: fromBinary(FileDescriptorSetSchema, bytes), version: commit.id };
    },
  };
}
