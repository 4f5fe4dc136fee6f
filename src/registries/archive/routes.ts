// Routes of the archive registry: generated code as .tar.gz.
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import { createDownloadHandler, type DownloadParams } from "./download.js";
import { renderError } from "./errors.js";
import type { ArchiveProtocol } from "./protocol.js";

export function archiveRegistry(protocol: ArchiveProtocol): RegistryPlugin {
  const download = createDownloadHandler(protocol);
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
