// OrganizationService: organizations and their members.
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrganizationService } from "../gen/protodepot/v1/organization_pb.js";
import { type OrganizationService as Organizations, parseRole } from "../services/organizations.js";
import { principal } from "./context.js";
import { memberMessage, organizationMessage } from "./convert.js";

export function createOrganizationServiceImpl(orgs: Organizations): ServiceImpl<typeof OrganizationService> {
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
  };
}
