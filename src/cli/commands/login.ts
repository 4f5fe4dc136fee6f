// `protodepot login URL --token T`: store a token for a remote.
import type { Command } from "commander";
import { UserService } from "../../gen/protodepot/v1/user_pb.js";
import { openRemote } from "../client.js";
import { normalizeRemote, readSettings, writeSettings } from "../settings.js";

export function registerLogin(program: Command): void {
  program
    .command("login <url>")
    .description("check a token against a remote and store it for later commands")
    .requiredOption("--token <token>", "the token")
    .action(async (url: string, flags: { token: string }) => {
      const remote = await openRemote({ remote: url, token: flags.token });
      const { user } = await remote.client(UserService).whoAmI({});
      const settings = await readSettings();
      const key = normalizeRemote(url);
      settings.remotes[key] = { token: flags.token };
      settings.current = key;
      await writeSettings(settings);
      process.stdout.write(`logged in to ${key} as ${user?.name ?? "?"}\n`);
    });
}
