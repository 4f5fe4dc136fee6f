// Routes of the CMake registry under /cmake/ (docs/cmake.md): archives of generated C++ with a CMakeLists.txt, for
// FetchContent. Read-only.
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import { type ArchiveParams, createArchiveHandler } from "./archive.js";
import { renderError } from "./errors.js";
import type { CmakeProtocol } from "./protocol.js";

export function cmakeRegistry(protocol: CmakeProtocol): RegistryPlugin {
  const archive = createArchiveHandler(protocol);
  return {
    name: "cmake",
    renderError,
    routes(app) {
      app.get<{ Params: ArchiveParams }>(
        "/cmake/:templateOwner/:templateName/:moduleOwner/:moduleName/:file",
        archive,
      );
    },
  };
}
