// buf.registry.module.v1.LabelService: `buf registry label info`.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import type { LabelService } from "../../gen/buf/registry/module/v1/label_pb.js";
import type { ModuleService } from "../../services/modules.js";
import { labelMessage } from "./convert.js";

export function createLabelService(modules: ModuleService): ServiceImpl<typeof LabelService> {
  return {
    async getLabels(req, ctx) {
      const caller = await principal(ctx);
      const labels = [];
      for (const ref of req.labelRefs) {
        if (ref.value.case !== "name")
          throw new RegistryError(Code.InvalidArgument, "label_ref needs an owner, module and label name");
        const { owner, module, label } = ref.value.value;
        const name = parseFullName("module", `${owner}/${module}`);
        const found = (await modules.listLabels(caller, name)).find((l) => l.name === label);
        if (!found) {
          throw new RegistryError(Code.NotFound, `module ${owner}/${module} has no label "${label}"`, {
            owner,
            module,
            ref: label,
          });
        }
        labels.push(labelMessage(found, owner));
      }
      return { labels };
    },
  };
}
