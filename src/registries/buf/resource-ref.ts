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

/** buf asks for a few modules at a time; a request naming more is refused rather than served slowly. */
const maxRefs = 250;

export function checkRefCount(n: number): void {
  if (n > maxRefs)
    throw new RegistryError(
      Code.ResourceExhausted,
      `${n} refs in one request; at most ${maxRefs} are served`,
    );
}

export interface GraphNode {
  commit: Commit;
  /** The commits it depends on: exactly the edges its b5 digest covers. */
  deps: string[];
  /** Its b5 digest (hex). */
  b5: string;
}

/** The commits the refs name and everything they depend on, transitively, each once. */
export async function commitGraph(
  modules: ModuleService,
  caller: Principal,
  refs: readonly (ResourceRef | undefined)[],
): Promise<GraphNode[]> {
  const nodes = new Map<string, GraphNode>();
  const pending: Commit[] = [];
  for (const ref of refs) pending.push(await resolveResourceRef(modules, caller, ref));
  for (let c = pending.pop(); c !== undefined; c = pending.pop()) {
    if (nodes.has(c.id)) continue;
    const { deps, digest } = await modules.b5Of(c);
    nodes.set(c.id, { commit: c, deps, b5: digest });
    for (const id of deps) if (!nodes.has(id)) pending.push(await modules.commitById(caller, id));
  }
  return [...nodes.values()];
}
