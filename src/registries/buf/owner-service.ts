// buf.registry.owner.v1 UserService (`buf registry whoami`) and OwnerService (owner lookups of `buf dep update`).
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import type { OwnerService, UserService } from "../../gen/buf/registry/owner/v1/owner_pb.js";
import { requireUser } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";
import { ownerMessage, ownerNameOfId, userMessage } from "./convert.js";

export function createUserService(): ServiceImpl<typeof UserService> {
  return {
    async getCurrentUser(_req, ctx) {
      return { user: userMessage(requireUser(await principal(ctx), "buf registry whoami")) };
    },
  };
}

export function createOwnerService(modules: ModuleService): ServiceImpl<typeof OwnerService> {
  return {
    async getOwners(req, ctx) {
      const caller = await principal(ctx);
      const owners = [];
      for (const ref of req.ownerRefs) {
        if (ref.value.case === undefined)
          throw new RegistryError(Code.InvalidArgument, "owner_ref needs an id or a name");
        const name = ref.value.case === "id" ? ownerNameOfId(ref.value.value) : ref.value.value;
        owners.push(ownerMessage(await modules.getOwner(caller, name)));
      }
      return { owners };
    },
  };
}
