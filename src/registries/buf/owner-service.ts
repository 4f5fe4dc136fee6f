// buf.registry.owner.v1 UserService (`buf registry whoami`), OwnerService (owner lookups of `buf dep update`) and
// OrganizationService (`buf registry organization info|create|delete`).
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import type {
  OrganizationRef,
  OrganizationService,
  OwnerService,
  UserService,
} from "../../gen/buf/registry/owner/v1/owner_pb.js";
import { requireUser } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";
import type { OrganizationService as Organizations } from "../../services/organizations.js";
import { organizationMessage, ownerMessage, ownerNameOfId, userMessage } from "./convert.js";
import { checkRefCount } from "./resource-ref.js";

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

export function createOrganizationService(orgs: Organizations): ServiceImpl<typeof OrganizationService> {
  return {
    async getOrganizations(req) {
      // Organizations are never private (docs/architecture.md): their names and existence are public.
      checkRefCount(req.organizationRefs.length);
      const found = [];
      for (const ref of req.organizationRefs) found.push(organizationMessage(await orgs.get(orgName(ref))));
      return { organizations: found };
    },

    async createOrganizations(req, ctx) {
      checkRefCount(req.values.length);
      const caller = await principal(ctx);
      const created = [];
      for (const v of req.values) created.push(organizationMessage(await orgs.create(caller, v.name)));
      return { organizations: created };
    },

    async deleteOrganizations(req, ctx) {
      checkRefCount(req.organizationRefs.length);
      const caller = await principal(ctx);
      for (const ref of req.organizationRefs) await orgs.delete(caller, orgName(ref));
      return {};
    },
  };
}

function orgName(ref: OrganizationRef): string {
  if (ref.value.case === undefined)
    throw new RegistryError(Code.InvalidArgument, "organization_ref needs an id or a name");
  return ref.value.case === "id" ? ownerNameOfId(ref.value.value) : ref.value.value;
}
