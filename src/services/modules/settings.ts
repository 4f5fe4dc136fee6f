// A module's settings: creating one before its first push, and its visibility, which keeps "public never depends
// on private" in both directions.
import { Code, RegistryError } from "../../core/errors.js";
import { checkLabel, type FullName } from "../../core/names.js";
import type { Module, Visibility } from "../../core/types.js";
import type { ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import type { Principal } from "../auth.js";
import type { ModuleReads } from "./reads.js";

export interface ModuleSettings {
  /** A module with no commits yet, so its visibility (and default label) can be set before the first push. */
  createModule(
    principal: Principal,
    name: FullName,
    opts: { visibility?: Visibility; defaultLabel?: string },
  ): Promise<Module>;
  /**
   * Changes visibility, keeping "public never depends on private": a module with public dependents stays public,
   * and a module that depends on private ones stays private.
   */
  updateModule(principal: Principal, name: FullName, change: { visibility?: Visibility }): Promise<Module>;
}

export function createModuleSettings({
  meta,
  access,
  reads,
  defaultVisibility,
  audit,
}: {
  meta: Pick<ModuleStore, "createModule" | "listDependents" | "listDependencies" | "setVisibility">;
  access: Pick<AccessPolicy, "requireWrite" | "requireManage">;
  reads: Pick<ModuleReads, "getModule">;
  defaultVisibility: Visibility;
  audit?: Pick<AuditTrail, "record">;
}): ModuleSettings {
  /** Why the module may not take `visibility`, if it may not: public never depends on private. */
  async function visibilityConflict(mod: Module, visibility: Visibility): Promise<string | undefined> {
    const name = `${mod.owner}/${mod.name}`;
    if (visibility === "private") {
      const publicDependents = (await meta.listDependents(mod.id)).filter((m) => m.visibility === "public");
      if (publicDependents.length === 0) return undefined;
      return `module ${name} cannot become private: public modules depend on it (${publicDependents
        .map((m) => `${m.owner}/${m.name}`)
        .join(", ")}); make them private first`;
    }
    const privateDeps = (await meta.listDependencies(mod.id)).filter((m) => m.visibility === "private");
    if (privateDeps.length === 0) return undefined;
    return `module ${name} cannot become public: it depends on private modules (${privateDeps
      .map((m) => `${m.owner}/${m.name}`)
      .join(", ")}); a public module never depends on a private one`;
  }

  return {
    async createModule(principal, name, opts) {
      await access.requireWrite(principal, name.owner, "create modules", name.name);
      const mod = await meta.createModule({
        owner: name.owner,
        name: name.name,
        visibility: opts.visibility ?? defaultVisibility,
        defaultLabel: checkLabel(opts.defaultLabel || "main"),
      });
      await audit?.record(principal, {
        action: "module.create",
        target: `${mod.owner}/${mod.name}`,
        owner: mod.owner,
        after: { visibility: mod.visibility, defaultLabel: mod.defaultLabel },
      });
      return mod;
    },
    async updateModule(principal, name, change) {
      // Visibility is an owner decision (asking for it at all, even unchanged); both checks precede the lookup.
      if (change.visibility)
        await access.requireManage(principal, name.owner, "change the visibility of modules", name.name);
      else await access.requireWrite(principal, name.owner, "change modules", name.name);
      const mod = await reads.getModule(principal, name);
      const visibility = change.visibility;
      if (!visibility || visibility === mod.visibility) return mod;
      const conflict = await visibilityConflict(mod, visibility);
      if (conflict) {
        throw new RegistryError(Code.FailedPrecondition, conflict, { owner: name.owner, module: name.name });
      }
      await meta.setVisibility("module", mod.id, visibility);
      await audit?.record(principal, {
        action: "module.visibility",
        target: `${mod.owner}/${mod.name}`,
        owner: mod.owner,
        before: { visibility: mod.visibility },
        after: { visibility },
      });
      return { ...mod, visibility };
    },
  };
}
