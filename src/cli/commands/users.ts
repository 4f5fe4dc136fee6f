// `protodepot user …` and `protodepot token …`.
import type { Command } from "commander";
import { UserService } from "../../gen/protodepot/v1/user_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import { printTable } from "../output.js";

export function registerUsers(program: Command): void {
  const user = program.command("user").description("manage users (admin)");
  user
    .command("create <name>")
    .description("create a user (admin)")
    .option("--admin", "make the user an admin")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (name: string, flags: RemoteOptions & { admin?: boolean }) => {
      const remote = await openRemote(flags);
      const res = await remote.client(UserService).createUser({ name, isAdmin: flags.admin ?? false });
      process.stdout.write(`created user ${res.user?.name}${res.user?.isAdmin ? " (admin)" : ""}\n`);
    });
  user
    .command("list")
    .description("list users (admin)")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { users } = await remote.client(UserService).listUsers({});
      printTable([
        ["NAME", "ADMIN", "CREATED"],
        ...users.map((u) => [u.name, u.isAdmin ? "yes" : "no", u.createTime]),
      ]);
    });

  const token = program.command("token").description("manage tokens");
  token
    .command("create")
    .description("create a token and print its secret (shown once)")
    .option("--user <name>", "user to create the token for (admin); yourself by default")
    .option("--note <text>", "what the token is for", "")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (flags: RemoteOptions & { user?: string; note: string }) => {
      const remote = await openRemote(flags);
      const res = await remote.client(UserService).createToken({ user: flags.user ?? "", note: flags.note });
      process.stdout.write(`${res.token}\n`);
    });
}
