// buf.registry.module.v1.ModuleService: module lookups, and `buf registry module create` / `buf push --create`.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import type { ModuleService } from "../../gen/buf/registry/module/v1/module_pb.js";
import type { ModuleService as Modules } from "../../services/modules.js";
import { moduleMessage, ownerNameOfId, parseModuleVisibility } from "./convert.js";

export function createModuleService(modules: Modules): ServiceImpl<typeof ModuleService> {
  return {
    async getModules(req, ctx) {
      const caller = await principal(ctx);
      const found = [];
      for (const ref of req.moduleRefs) {
        const v = ref.value;
        if (v.case === "id") found.push(await modules.moduleById(caller, v.value));
        else if (v.case === "name")
          found.push(
            await modules.getModule(caller, parseFullName("module", `${v.value.owner}/${v.value.module}`)),
          );
        else
          throw new RegistryError(Code.InvalidArgument, "module_ref needs an id or an owner and module name");
      }
      return { modules: found.map(moduleMessage) };
    },

    async createModules(req, ctx) {
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
        });
        created.push(moduleMessage(mod));
      }
      return { modules: created };
    },
  };
}
