// A module's labels: listing them, creating or moving one, archiving and unarchiving (writers of the owner).
import { Code, RegistryError } from "../../core/errors.js";
import { checkLabel, type FullName } from "../../core/names.js";
import type { Label } from "../../core/types.js";
import type { ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { Principal } from "../auth.js";
import type { ModuleReads } from "./reads.js";

/** Which labels a listing shows: archived labels leave listings unless asked for. */
export type ArchiveFilter = "unarchived" | "archived" | "all";

export interface ModuleLabels {
  /** By name; unarchived ones unless `filter` says otherwise. */
  listLabels(principal: Principal, name: FullName, filter?: ArchiveFilter): Promise<Label[]>;
  /**
   * Archives a label (it leaves listings and still resolves, so nothing pinned to it breaks) or unarchives it.
   * The default label stays unarchived: unlabelled references resolve through it.
   */
  archiveLabel(principal: Principal, name: FullName, label: string, archived: boolean): Promise<Label>;
  /** Points `label` at the commit `ref` names: a new label ("create") or an existing one ("move"). */
  setLabel(
    principal: Principal,
    name: FullName,
    label: string,
    ref: string,
    mode: "create" | "move",
  ): Promise<Label>;
}

export function createModuleLabels({
  meta,
  access,
  reads,
}: {
  meta: Pick<ModuleStore, "listLabels" | "setLabel" | "setLabelArchived">;
  access: AccessPolicy;
  reads: Pick<ModuleReads, "getModule" | "resolveIn">;
}): ModuleLabels {
  return {
    async listLabels(principal, name, filter = "unarchived") {
      const mod = await reads.getModule(principal, name);
      const labels = await meta.listLabels(mod.id);
      if (filter === "all") return labels;
      return labels.filter((l) => (l.archivedAt !== undefined) === (filter === "archived"));
    },
    async archiveLabel(principal, name, label, archived) {
      await access.requireWrite(principal, name.owner, `${archived ? "archive" : "unarchive"} labels`);
      const mod = await reads.getModule(principal, name);
      const fields = { owner: name.owner, module: name.name, ref: label };
      if (archived && label === mod.defaultLabel) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `label "${label}" is the default label of ${name.owner}/${name.name} and cannot be archived: make another label the default first`,
          fields,
        );
      }
      const changed = await meta.setLabelArchived(mod.id, label, archived);
      if (changed) return changed;
      const labels = (await meta.listLabels(mod.id)).map((l) => l.name);
      throw new RegistryError(
        Code.NotFound,
        `module ${name.owner}/${name.name} has no label "${label}" (labels: ${labels.join(", ") || "none"})`,
        fields,
      );
    },
    async setLabel(principal, name, label, ref, mode) {
      await access.requireWrite(principal, name.owner, `${mode} labels`);
      const mod = await reads.getModule(principal, name);
      const commit = await reads.resolveIn(mod, ref);
      return meta.setLabel(mod.id, checkLabel(label), commit.id, mode);
    },
  };
}
