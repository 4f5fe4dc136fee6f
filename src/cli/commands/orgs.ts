// `protodepot org …`: organizations and their members.
import { OrganizationService } from "../../gen/protodepot/v1/organization_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable } from "../output.js";

export function registerOrgs(program: CliCommand): void {
  const org = program.command("org").description("manage organizations and their members");
  org
    .command("create <name>")
    .description("create an organization; you become its owner")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const res = await remote.client(OrganizationService).createOrganization({ name });
      process.stdout.write(`created organization ${res.organization?.name}\n`);
    });
  org
    .command("list")
    .description("list the organizations you belong to (admins: all)")
    .remoteFlags()
    .action(async (flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { organizations } = await remote.client(OrganizationService).listOrganizations({});
      printTable([["ORGANIZATION", "CREATED"], ...organizations.map((o) => [o.name, o.createTime])]);
    });

  org
    .command("update <name>")
    .description("set what every module of the organization pre-generates after each push")
    .option(
      "--pregenerate <templates>",
      "comma-separated templates (OWNER/NAME), beside each module's own list; '' clears the list",
    )
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { pregenerate?: string }) => {
      const remote = await openRemote(flags);
      const pregenerate = (flags.pregenerate ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== "");
      const res = await remote.client(OrganizationService).updateOrganization({
        name,
        pregenerate,
        clearPregenerate: flags.pregenerate !== undefined && pregenerate.length === 0,
      });
      process.stdout.write(
        res.pregenerate.length > 0
          ? `every module of ${name} pre-generates ${res.pregenerate.join(", ")} after each push\n`
          : `the modules of ${name} pre-generate only their own lists\n`,
      );
    });

  const member = org.command("member").description("manage an organization's members");
  member
    .command("add <org> <user>")
    .description("add a member, or change a member's role")
    .requiredOption("--role <role>", "owner, writer or reader")
    .remoteFlags()
    .action(async (orgName: string, user: string, flags: RemoteOptions & { role: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(OrganizationService)
        .addMember({ organization: orgName, user, role: flags.role });
      process.stdout.write(`${res.member?.user} is ${res.member?.role} of ${orgName}\n`);
    });
  member
    .command("remove <org> <user>")
    .description("remove a member")
    .remoteFlags()
    .action(async (orgName: string, user: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      await remote.client(OrganizationService).removeMember({ organization: orgName, user });
      process.stdout.write(`removed ${user} from ${orgName}\n`);
    });
  member
    .command("list <org>")
    .description("list an organization's members and their roles")
    .remoteFlags()
    .action(async (orgName: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { members } = await remote.client(OrganizationService).listMembers({ organization: orgName });
      printTable([["USER", "ROLE"], ...members.map((m) => [m.user, m.role])]);
    });
}
