// commander's Command with the flags every registry-facing command shares, declared once.
import { Command } from "commander";

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
    return this.option("--remote <url>", help.remote).option("--token <token>", help.token);
  }
}
