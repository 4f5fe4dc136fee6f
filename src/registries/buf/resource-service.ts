// buf.registry.module.v1.ResourceService: what a reference names (`buf registry module commit list` starts here):
// the module itself (no reference), one of its labels, or a commit.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import type { ResourceRef } from "../../gen/buf/registry/module/v1/commit_pb.js";
import type { ResourceSchema, ResourceService } from "../../gen/buf/registry/module/v1/resource_pb.js";
import type { Principal } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";
import { commitMessage, labelMessage, moduleMessage } from "./convert.js";
import { checkRefCount } from "./resource-ref.js";

export function createResourceService(modules: ModuleService): ServiceImpl<typeof ResourceService> {
  return {
    async getResources(req, ctx) {
      checkRefCount(req.resourceRefs.length);
      const caller = await principal(ctx);
      const resources = [];
      for (const ref of req.resourceRefs) resources.push(await resourceOf(modules, caller, ref));
      return { resources };
    },
  };
}

async function resourceOf(
  modules: ModuleService,
  caller: Principal,
  ref: ResourceRef,
): Promise<MessageInitShape<typeof ResourceSchema>> {
  const v = ref.value;
  if (v.case === "id") {
    // An id names a commit or a module (label ids are derived, never looked up).
    try {
      const commit = await modules.commitById(caller, v.value);
      return { value: { case: "commit", value: commitMessage(commit, (await modules.b5Of(commit)).digest) } };
    } catch (err) {
      if (!isRegistryError(err, Code.NotFound)) throw err;
      return { value: { case: "module", value: moduleMessage(await modules.moduleById(caller, v.value)) } };
    }
  }
  if (v.case !== "name")
    throw new RegistryError(Code.InvalidArgument, "resource_ref needs an id or an owner and module name");
  const name = parseFullName("module", `${v.value.owner}/${v.value.module}`);
  const child = v.value.child;
  if (!child.value)
    return { value: { case: "module", value: moduleMessage(await modules.getModule(caller, name)) } };
  const label = (await modules.listLabels(caller, name, "all")).find((l) => l.name === child.value);
  if (label) return { value: { case: "label", value: labelMessage(label, name.owner) } };
  if (child.case === "labelName") {
    throw new RegistryError(
      Code.NotFound,
      `module ${name.owner}/${name.name} has no label "${child.value}"`,
      {
        owner: name.owner,
        module: name.name,
        ref: child.value,
      },
    );
  }
  const commit = await modules.resolveRef(caller, name, child.value);
  return { value: { case: "commit", value: commitMessage(commit, (await modules.b5Of(commit)).digest) } };
}
