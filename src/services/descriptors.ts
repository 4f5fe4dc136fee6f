// A commit's schema as a FileDescriptorSet, cut from the image stored at push: the module's files (or the files
// that declare some symbols), with or without their imports and source info.
import {
  type DescriptorSetOptions,
  encodeDescriptorSet,
  filesDeclaring,
  selectFiles,
} from "../core/descriptor-set.js";
import { scanImage } from "../core/image-files.js";
import type { FullName } from "../core/names.js";
import type { Commit } from "../core/types.js";
import type { Principal } from "./auth.js";
import type { ModuleService } from "./modules.js";

export interface DescriptorRequest extends DescriptorSetOptions {
  /** A label, a commit id (or a unique prefix of one); empty: the module's default label. */
  ref: string;
  /** Only the files declaring these fully-qualified names (packages, types, services, methods, extensions). */
  symbols?: readonly string[];
}

export interface DescriptorSet {
  commit: Commit;
  /** An encoded google.protobuf.FileDescriptorSet, files in dependency order. */
  bytes: Uint8Array;
}

export interface DescriptorService {
  /** The schema of the module at `ref`, if the caller may read the module (and, with imports, its dependencies). */
  descriptorSet(principal: Principal, name: FullName, request: DescriptorRequest): Promise<DescriptorSet>;
}

export function createDescriptorService(
  modules: Pick<ModuleService, "resolveRef" | "readableDeps" | "readImage" | "listCommitFiles">,
): DescriptorService {
  return {
    async descriptorSet(principal, name, request) {
      const commit = await modules.resolveRef(principal, name, request.ref);
      // Dependency files are another module's: a caller who may not read one gets its "does not exist".
      if (request.imports) await modules.readableDeps(principal, commit);
      const image = scanImage(await modules.readImage(commit));
      const roots = request.symbols?.length
        ? filesDeclaring(image, request.symbols)
        : (await modules.listCommitFiles(commit)).map((f) => f.path).filter((p) => p.endsWith(".proto"));
      const files = selectFiles(image, roots, request.imports);
      return { commit, bytes: encodeDescriptorSet(files, request.sourceInfo) };
    },
  };
}
