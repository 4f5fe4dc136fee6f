// `protodepot user …` and `protodepot token …`.
import { UserService } from "../../gen/protodepot/v1/user_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable, progress } from "../output.js";

const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `90m` from now, or an RFC 3339 instant, as an RFC 3339 instant. */
export function expiryOf(text: string, now = Date.now()): string {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(text);
  if (m) return new Date(now + Number(m[1]) * (units[m[2] ?? "d"] ?? 0)).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new Error(`invalid --expires "${text}": use 30d, 12h, 90m or an RFC 3339 instant`);
  return new Date(at).toISOString();
}

/** Commander's collector for an option given several times. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerUsers(program: CliCommand): void {
  const user = program.command("user").description("manage users (admin)");
  userCreateCommand(user);
  userListCommand(user);
  const token = program.command("token").description("manage tokens");
  tokenCreateCommand(token);
  tokenListCommand(token);
  tokenRevokeCommand(token);
}

function userCreateCommand(user: CliCommand): void {
  user
    .command("create <name>")
    .description("create a user (admin)")
    .option("--admin", "make the user an admin")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { admin?: boolean }) => {
      const remote = await openRemote(flags);
      const res = await remote.client(UserService).createUser({ name, isAdmin: flags.admin ?? false });
      process.stdout.write(`created user ${res.user?.name}${res.user?.isAdmin ? " (admin)" : ""}\n`);
    });
}

function userListCommand(user: CliCommand): void {
  user
    .command("list")
    .description("list users (admin)")
    .remoteFlags()
    .action(async (flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { users } = await remote.client(UserService).listUsers({});
      printTable([
        ["NAME", "ADMIN", "CREATED"],
        ...users.map((u) => [u.name, u.isAdmin ? "yes" : "no", u.createTime]),
      ]);
    });
}

function tokenCreateCommand(token: CliCommand): void {
  token
    .command("create")
    .description("create a token and print its secret once")
    .option("--user <name>", "user to create the token for (admin); yourself by default")
    .option("--note <text>", "what the token is for", "")
    .option(
      "--expires <duration>",
      "lifetime: 30d, 12h, 90m, or an RFC 3339 instant; default: never (or the server's maximum)",
    )
    .option(
      "--scope <scope>",
      "limit the token: read, write:OWNER or write:OWNER/MODULE (repeat for several); default: all you may do",
      collect,
      [],
    )
    .remoteFlags()
    .action(
      async (flags: RemoteOptions & { user?: string; note: string; expires?: string; scope: string[] }) => {
        const expireTime = flags.expires ? expiryOf(flags.expires) : "";
        const remote = await openRemote(flags);
        const res = await remote
          .client(UserService)
          .createToken({ user: flags.user ?? "", note: flags.note, expireTime, scopes: flags.scope });
        process.stdout.write(`${res.token}\n`);
        const scope = flags.scope.length ? `, scope ${flags.scope.join(" ")}` : "";
        progress(
          `token ${res.tokenId} for ${res.user}${expireTime ? `, expires ${expireTime}` : ""}${scope}`,
        );
      },
    );
}

function tokenListCommand(token: CliCommand): void {
  token
    .command("list")
    .description("list your tokens that still work: not revoked, not expired (never their secrets)")
    .option("--user <name>", "another user's tokens (admin)")
    .remoteFlags()
    .action(async (flags: RemoteOptions & { user?: string }) => {
      const remote = await openRemote(flags);
      const { tokens } = await remote.client(UserService).listTokens({ user: flags.user ?? "" });
      printTokens(tokens);
    });
}

function tokenRevokeCommand(token: CliCommand): void {
  token
    .command("revoke <id>")
    .description("revoke a token: it never authenticates again")
    .remoteFlags()
    .action(async (id: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const res = await remote.client(UserService).revokeToken({ tokenId: id });
      process.stdout.write(`revoked token ${res.token?.id} of ${res.token?.user}\n`);
    });
}

/** The TOKEN LIST table, for a user's tokens and a bot's alike. */
export function printTokens(
  tokens: readonly {
    id: string;
    note: string;
    scopes: readonly string[];
    createTime: string;
    lastUsedTime: string;
    expireTime: string;
  }[],
): void {
  printTable([
    ["ID", "NOTE", "SCOPES", "CREATED", "LAST USED", "EXPIRES"],
    ...tokens.map((t) => [
      t.id,
      t.note,
      t.scopes.length ? t.scopes.join(" ") : "all",
      t.createTime,
      t.lastUsedTime || "never",
      t.expireTime || "never",
    ]),
  ]);
}
