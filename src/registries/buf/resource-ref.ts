// The three ways buf names a commit (ResourceRef) resolved once, through the module service and the caller.
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import type { Commit } from "../../core/types.js";
import type { Principal } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";

/** buf.registry.module.v1's ResourceRef and v1beta1's: the same fields and numbers. */
export interface ResourceRef {
  value:
    | { case: "id"; value: string }
    | { case: "name"; value: { owner: string; module: string; child: { value?: string | undefined } } }
    | { case: undefined; value?: undefined };
}

/** A commit id, or owner/module with a label name or a reference ("" = the module's default label). */
export async function resolveResourceRef(
  modules: ModuleService,
  caller: Principal,
  ref: ResourceRef | undefined,
): Promise<Commit> {
  const value = ref?.value;
  if (value?.case === "id") return modules.commitById(caller, value.value);
  if (value?.case === "name") {
    const { owner, module, child } = value.value;
    const name = parseFullName("module", `${owner}/${module}`);
    return modules.resolveRef(caller, name, child.value ?? "");
  }
  throw new RegistryError(Code.InvalidArgument, "resource_ref needs an id or an owner and module name");
}
