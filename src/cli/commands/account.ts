// `protodepot account identities|unlink`: the provider accounts linked to you (admins: to anyone), docs/sso.md.
import { SignInService } from "../../gen/protodepot/v1/sign_in_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable } from "../output.js";

interface AccountFlags extends RemoteOptions {
  user?: string;
  json?: boolean;
}

async function listIdentities(flags: AccountFlags): Promise<void> {
  const remote = await openRemote(flags);
  const { identities } = await remote.client(SignInService).listIdentities({ user: flags.user ?? "" });
  if (flags.json) {
    for (const i of identities) {
      const { issuer, provider, subject, linkTime, lastSignInTime } = i;
      process.stdout.write(`${JSON.stringify({ issuer, provider, subject, linkTime, lastSignInTime })}\n`);
    }
    return;
  }
  if (identities.length === 0) {
    process.stdout.write("no linked sign-in accounts\n");
    return;
  }
  printTable([
    ["PROVIDER", "ISSUER", "SUBJECT", "LINKED", "LAST SIGN-IN"],
    ...identities.map((i) => [
      i.provider || "-",
      i.issuer,
      i.subject,
      i.linkTime,
      i.lastSignInTime || "never",
    ]),
  ]);
}

export function registerAccount(program: CliCommand): void {
  const account = program
    .command("account")
    .description("list or unlink your linked sign-in accounts (OpenID Connect)");
  account
    .command("identities")
    .description("list the provider accounts linked to you (admins: --user for anyone's)")
    .option("--user <user>", "another user (admins)")
    .option("--json", "one JSON object per line")
    .remoteFlags()
    .action((flags: AccountFlags) => listIdentities(flags));
  account
    .command("unlink <provider>")
    .description(
      "unlink your account of a provider (its name or issuer URL); refused for your last one while local sign-in is off",
    )
    .option("--user <user>", "another user (admins)")
    .remoteFlags()
    .action(async (provider: string, flags: AccountFlags) => {
      const remote = await openRemote(flags);
      const { unlinked } = await remote
        .client(SignInService)
        .unlinkIdentity({ provider, user: flags.user ?? "" });
      for (const i of unlinked) {
        process.stdout.write(`unlinked ${i.provider || i.issuer} account ${i.subject}\n`);
      }
    });
}
