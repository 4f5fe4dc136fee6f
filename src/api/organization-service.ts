// OrganizationService: organizations and their members.
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrganizationService } from "../gen/protodepot/v1/organization_pb.js";
import { type OrganizationService as Organizations, parseRole } from "../services/organizations.js";
import type { PregenerateService } from "../services/pregenerate.js";
import { principal } from "./context.js";
import { memberMessage, organizationMessage } from "./convert.js";

export function createOrganizationServiceImpl(
  orgs: Organizations,
  pregenerate: PregenerateService,
): ServiceImpl<typeof OrganizationService> {
  return {
    async createOrganization(req, ctx) {
      return { organization: organizationMessage(await orgs.create(await principal(ctx), req.name)) };
    },
    async listOrganizations(_req, ctx) {
      return { organizations: (await orgs.list(await principal(ctx))).map(organizationMessage) };
    },
    async addMember(req, ctx) {
      const member = await orgs.setMember(
        await principal(ctx),
        req.organization,
        req.user,
        parseRole(req.role),
      );
      return { member: memberMessage(member) };
    },
    async removeMember(req, ctx) {
      await orgs.removeMember(await principal(ctx), req.organization, req.user);
      return {};
    },
    async listMembers(req, ctx) {
      return { members: (await orgs.listMembers(await principal(ctx), req.organization)).map(memberMessage) };
    },
    async updateOrganization(req, ctx) {
      const caller = await principal(ctx);
      const org = await orgs.get(req.name);
      const change = req.clearPregenerate || req.pregenerate.length > 0;
      const list = change
        ? await pregenerate.setForOwner(caller, org.name, req.pregenerate)
        : await pregenerate.listForOwner(caller, org.name);
      return { organization: organizationMessage(org), pregenerate: list.map((t) => `${t.owner}/${t.name}`) };
    },
  };
}
