// Routes of the archive registry: generated code as .tar.gz.
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { GenerationService } from "../../services/generation.js";
import { createDownloadHandler, type DownloadParams } from "./download.js";
import { renderError } from "./errors.js";

export function archiveRegistry(generation: GenerationService): RegistryPlugin {
  const download = createDownloadHandler(generation);
  return {
    name: "archive",
    renderError,
    routes(app) {
      app.get<{ Params: DownloadParams }>(
        "/v1/:templateOwner/:templateName/:templateVersion/:moduleOwner/:moduleName/:file",
        download,
      );
    },
  };
}
