// `protodepot bot …`: an organization's bots and their tokens (for its owners).

import { BotService } from "../../gen/protodepot/v1/bot_pb.js";
import { UserService } from "../../gen/protodepot/v1/user_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable, progress } from "../output.js";
import { collect, expiryOf, printTokens } from "./users.js";

export function registerBots(program: CliCommand): void {
  const bot = program
    .command("bot")
    .description("manage an organization's bots (service accounts) and their tokens");
  botCreateCommand(bot);
  botListCommand(bot);
  botDeleteCommand(bot);
  const token = bot.command("token").description("manage a bot's tokens");
  botTokenCreateCommand(token);
  botTokenListCommand(token);
  botTokenRevokeCommand(token);
}

function botCreateCommand(bot: CliCommand): void {
  bot
    .command("create <org> <name>")
    .description("create a bot of an organization you own")
    .option("--role <role>", "its role in the organization: writer or reader", "writer")
    .remoteFlags()
    .action(async (org: string, name: string, flags: RemoteOptions & { role: string }) => {
      const remote = await openRemote(flags);
      const res = await remote.client(BotService).createBot({ organization: org, name, role: flags.role });
      process.stdout.write(`created bot ${res.bot?.user?.name} of ${org} (${res.bot?.role})\n`);
    });
}

function botListCommand(bot: CliCommand): void {
  bot
    .command("list <org>")
    .description("list the bots of an organization you own")
    .remoteFlags()
    .action(async (org: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { bots } = await remote.client(BotService).listBots({ organization: org });
      printTable([
        ["BOT", "ROLE", "CREATED"],
        ...bots.map((b) => [b.user?.name ?? "", b.role, b.user?.createTime ?? ""]),
      ]);
    });
}

function botDeleteCommand(bot: CliCommand): void {
  bot
    .command("delete <org> <name>")
    .description("delete a bot: its tokens stop working and its name stays taken")
    .remoteFlags()
    .action(async (org: string, name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      await remote.client(BotService).deleteBot({ organization: org, name });
      process.stdout.write(`deleted bot ${name} of ${org}\n`);
    });
}

function botTokenCreateCommand(token: CliCommand): void {
  token
    .command("create <bot>")
    .description("create a token for a bot and print its secret once")
    .option("--note <text>", "what the token is for", "")
    .option("--expires <duration>", "lifetime: 30d, 12h, 90m, or an RFC 3339 instant")
    .option("--scope <scope>", "read, write:OWNER or write:OWNER/MODULE (repeatable)", collect, [])
    .remoteFlags()
    .action(
      async (name: string, flags: RemoteOptions & { note: string; expires?: string; scope: string[] }) => {
        const expireTime = flags.expires ? expiryOf(flags.expires) : "";
        const remote = await openRemote(flags);
        const res = await remote
          .client(UserService)
          .createToken({ user: name, note: flags.note, expireTime, scopes: flags.scope });
        process.stdout.write(`${res.token}\n`);
        progress(`token ${res.tokenId} for bot ${res.user}`);
      },
    );
}

function botTokenListCommand(token: CliCommand): void {
  token
    .command("list <bot>")
    .description("list a bot's tokens that still work")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { tokens } = await remote.client(UserService).listTokens({ user: name });
      printTokens(tokens);
    });
}

function botTokenRevokeCommand(token: CliCommand): void {
  token
    .command("revoke <id>")
    .description("revoke a bot's token")
    .remoteFlags()
    .action(async (id: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const res = await remote.client(UserService).revokeToken({ tokenId: id });
      process.stdout.write(`revoked token ${res.token?.id} of ${res.token?.user}\n`);
    });
}
