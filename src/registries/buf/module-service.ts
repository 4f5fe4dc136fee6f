// buf.registry.module.v1.ModuleService: module lookups, `buf registry module create` / `buf push --create`, and
// `buf registry module update`, `deprecate`, `undeprecate`, `settings update` and `delete`.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { type FullName, parseFullName } from "../../core/names.js";
import type { Module } from "../../core/types.js";
import {
  type ModuleRef,
  type ModuleService,
  ModuleState,
  type UpdateModulesRequest_Value,
} from "../../gen/buf/registry/module/v1/module_pb.js";
import type { Principal } from "../../services/auth.js";
import type { ModuleUpdate } from "../../services/modules/settings.js";
import type { ModuleService as Modules } from "../../services/modules.js";
import { moduleMessage, ownerNameOfId, parseModuleVisibility } from "./convert.js";
import { checkRefCount } from "./resource-ref.js";

export function createModuleService(modules: Modules): ServiceImpl<typeof ModuleService> {
  return {
    async getModules(req, ctx) {
      checkRefCount(req.moduleRefs.length);
      const caller = await principal(ctx);
      const found = [];
      for (const ref of req.moduleRefs) found.push(await moduleOfRef(modules, caller, ref));
      return { modules: found.map(moduleMessage) };
    },

    async createModules(req, ctx) {
      checkRefCount(req.values.length);
      const caller = await principal(ctx);
      const created = [];
      for (const v of req.values) {
        const ref = v.ownerRef?.value;
        if (ref?.case === undefined)
          throw new RegistryError(Code.InvalidArgument, "owner_ref needs an id or a name");
        const owner = ref.case === "id" ? ownerNameOfId(ref.value) : ref.value;
        const visibility = parseModuleVisibility(v.visibility);
        const mod = await modules.createModule(caller, parseFullName("module", `${owner}/${v.name}`), {
          ...(visibility ? { visibility } : {}),
          defaultLabel: v.defaultLabelName,
          description: v.description,
        });
        created.push(moduleMessage(mod));
      }
      return { modules: created };
    },

    async updateModules(req, ctx) {
      checkRefCount(req.values.length);
      const caller = await principal(ctx);
      const updated = [];
      for (const v of req.values) {
        const mod = await moduleOfRef(modules, caller, v.moduleRef);
        const name: FullName = { owner: mod.owner, name: mod.name };
        updated.push(moduleMessage(await modules.updateModule(caller, name, moduleUpdate(v, mod))));
      }
      return { modules: updated };
    },

    async deleteModules(req, ctx) {
      checkRefCount(req.moduleRefs.length);
      const caller = await principal(ctx);
      for (const ref of req.moduleRefs) {
        const mod = await moduleOfRef(modules, caller, ref);
        await modules.deleteModule(caller, { owner: mod.owner, name: mod.name });
      }
      return {};
    },
  };
}

/** The fields a value sets, as our change; buf's deprecation carries no message, so a message set before stays. */
function moduleUpdate(v: UpdateModulesRequest_Value, mod: Module): ModuleUpdate {
  const change: ModuleUpdate = {};
  if (v.visibility !== undefined) {
    const visibility = parseModuleVisibility(v.visibility);
    if (!visibility) throw new RegistryError(Code.InvalidArgument, "visibility must be public or private");
    change.visibility = visibility;
  }
  if (v.state === ModuleState.DEPRECATED) change.deprecation = mod.deprecation ?? "";
  else if (v.state === ModuleState.ACTIVE) change.deprecation = null;
  else if (v.state !== undefined)
    throw new RegistryError(Code.InvalidArgument, "state must be active or deprecated");
  if (v.description !== undefined) change.description = v.description;
  if (v.defaultLabelName !== undefined) change.defaultLabel = v.defaultLabelName;
  return change;
}

/** A module by id or by owner and name, if the caller may read it. */
export async function moduleOfRef(
  modules: Modules,
  caller: Principal,
  ref: ModuleRef | undefined,
): Promise<Module> {
  const v = ref?.value;
  if (v?.case === "id") return modules.moduleById(caller, v.value);
  if (v?.case === "name")
    return modules.getModule(caller, parseFullName("module", `${v.value.owner}/${v.value.module}`));
  throw new RegistryError(Code.InvalidArgument, "module_ref needs an id or an owner and module name");
}
