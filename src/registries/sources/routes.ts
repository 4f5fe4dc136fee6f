// Routes of the module sources download.
import { invalidArgument } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import { createArchiveHandler, type SourcesParams } from "./archive.js";
import { renderError } from "./errors.js";
import type { SourcesProtocol } from "./protocol.js";

export function sourcesRegistry(protocol: SourcesProtocol): RegistryPlugin {
  const archive = createArchiveHandler(protocol);
  return {
    name: "sources",
    renderError,
    routes(app) {
      app.get<{ Params: SourcesParams }>("/:owner/:module/archive/:file", async (request, reply) => {
        if (!request.params.file.endsWith(".tar.gz")) {
          throw invalidArgument("only .tar.gz archives are served: GET …/archive/{ref}.tar.gz");
        }
        return archive(request, reply);
      });
    },
  };
}
