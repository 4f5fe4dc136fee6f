// commander's Command with the flags every registry-facing command shares, declared once.
import { Command } from "commander";

const remoteHelp = "the registry's URL (default: PROTODEPOT_REMOTE, else the last 'protodepot login')";
// A token on the command line lands in shell history and `ps`: the help says where else it can come from.
const tokenHelp =
  "a token for this call (default: PROTODEPOT_TOKEN, else the login's; prefer those, a flag shows in shell history)";

/** Every subcommand of a CliCommand is one too (commander's documented way to extend subcommands). */
export class CliCommand extends Command {
  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  /**
   * `--remote` and `--token`, which `openRemote` reads (flags win over env and the stored login). Declared after
   * the command's own options, so `--help` lists them last.
   */
  remoteFlags(help: { remote?: string; token?: string } = {}): this {
    return this.option("--remote <url>", help.remote ?? remoteHelp).option(
      "--token <token>",
      help.token ?? tokenHelp,
    );
  }
}
