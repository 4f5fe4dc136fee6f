// Routes of the descriptor download.
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import { createDescriptorHandler, type DescriptorParams, type DescriptorQuery } from "./descriptor.js";
import { renderError } from "./errors.js";
import type { DescriptorsProtocol } from "./protocol.js";

export function descriptorsRegistry(protocol: DescriptorsProtocol): RegistryPlugin {
  const descriptor = createDescriptorHandler(protocol);
  return {
    name: "descriptors",
    renderError,
    routes(app) {
      app.get<{ Params: DescriptorParams; Querystring: DescriptorQuery }>(
        "/:owner/:module/descriptor/:ref",
        descriptor,
      );
    },
  };
}
