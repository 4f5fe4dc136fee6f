// What the descriptor download offers: a commit's schema as a FileDescriptorSet (services/descriptors.ts).
import { createDescriptorService, type DescriptorService } from "../../services/descriptors.js";
import type { ModuleService } from "../../services/modules.js";

export type DescriptorsProtocol = Pick<DescriptorService, "descriptorSet">;

export function createDescriptorsProtocol(
  modules: Pick<ModuleService, "resolveRef" | "readableDeps" | "readImage" | "listCommitFiles">,
): DescriptorsProtocol {
  return createDescriptorService(modules);
}
