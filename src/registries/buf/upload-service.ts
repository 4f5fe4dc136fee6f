// buf.registry.module.v1.UploadService: `buf push`, through the same push path as ours.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import type { UploadService } from "../../gen/buf/registry/module/v1/upload_pb.js";
import type { ModuleService } from "../../services/modules.js";
import { commitMessage } from "./convert.js";

export function createUploadService(modules: ModuleService): ServiceImpl<typeof UploadService> {
  return {
    async upload(req, ctx) {
      const caller = await principal(ctx);
      const contents = [];
      for (const c of req.contents) {
        const ref = c.moduleRef?.value;
        const module =
          ref?.case === "name"
            ? parseFullName("module", `${ref.value.owner}/${ref.value.module}`)
            : ref?.case === "id"
              ? await modules.moduleById(caller, ref.value).then((m) => ({ owner: m.owner, name: m.name }))
              : undefined;
        if (!module)
          throw new RegistryError(Code.InvalidArgument, "module_ref needs an id or an owner and module name");
        const labels = c.scopedLabelRefs.map((l) => {
          if (l.value.case !== "name")
            throw new RegistryError(Code.InvalidArgument, "labels are named, not given by id");
          return l.value.value;
        });
        contents.push({ module, files: c.files.map((f) => ({ path: f.path, content: f.content })), labels });
      }
      const commits = await modules.upload(caller, contents, req.depCommitIds);
      return {
        commits: await Promise.all(
          commits.map(async (c) => commitMessage(c, (await modules.b5Of(c)).digest)),
        ),
      };
    },
  };
}
