// What the sources download offers: the files of one commit exactly as pushed.
import type { Readable } from "node:stream";
import type { FullName } from "../../core/names.js";
import type { Commit } from "../../core/types.js";
import type { Principal } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";

export interface SourcesArchive {
  commit: Commit;
  open(): Promise<Readable>;
}

export interface SourcesProtocol {
  /** The commit a label or commit id names, if the caller may read the module, and how to read its files. */
  archive(principal: Principal, module: FullName, ref: string): Promise<SourcesArchive>;
}

export function createSourcesProtocol(
  modules: Pick<ModuleService, "resolveRef" | "openSources">,
): SourcesProtocol {
  return {
    async archive(principal, module, ref) {
      const commit = await modules.resolveRef(principal, module, ref);
      return { commit, open: () => modules.openSources(commit) };
    },
  };
}
