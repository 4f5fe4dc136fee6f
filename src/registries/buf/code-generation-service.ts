// buf.alpha.registry.v1alpha1.CodeGenerationService: `buf generate` with `remote:` plugins of this registry.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import type { CodeGenerationService } from "../../gen/buf/alpha/registry/v1alpha1/plugin_curation_pb.js";
import { fromBufImage } from "../../generate/image-request.js";
import type { RemotePluginService } from "../../services/remote-plugins.js";

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
      const files = req.image ? fromBufImage(req.image) : [];
      const responses = await remote.generateCode(caller, { files, requests }, ctx.signal);
      return { responses: responses.map((response) => ({ response })) };
    },
  };
}
