// A module's labels: listing them, and creating or moving one (writers of the owner).
import { checkLabel, type FullName } from "../../core/names.js";
import type { Label } from "../../core/types.js";
import type { ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import type { Principal } from "../auth.js";
import type { ModuleReads } from "./reads.js";

export interface ModuleLabels {
  listLabels(principal: Principal, name: FullName): Promise<Label[]>;
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
  audit,
}: {
  meta: Pick<ModuleStore, "listLabels" | "setLabel">;
  access: AccessPolicy;
  reads: Pick<ModuleReads, "getModule" | "resolveIn">;
  audit?: Pick<AuditTrail, "record">;
}): ModuleLabels {
  return {
    async listLabels(principal, name) {
      const mod = await reads.getModule(principal, name);
      return meta.listLabels(mod.id);
    },
    async setLabel(principal, name, label, ref, mode) {
      await access.requireWrite(principal, name.owner, `${mode} labels`, name.name);
      const mod = await reads.getModule(principal, name);
      const commit = await reads.resolveIn(mod, ref);
      const checked = checkLabel(label);
      const before = audit && (await meta.listLabels(mod.id)).find((l) => l.name === checked)?.commitId;
      const set = await meta.setLabel(mod.id, checked, commit.id, mode);
      if (before !== commit.id) {
        await audit?.record(principal, {
          action: before === undefined ? "label.create" : "label.move",
          target: `${mod.owner}/${mod.name}:${checked}`,
          owner: mod.owner,
          ...(before !== undefined ? { before: { commit: before } } : {}),
          after: { commit: commit.id },
        });
      }
      return set;
    },
  };
}
