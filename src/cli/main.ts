// The `protodepot` command line: every command but `serve` talks to a registry through its API.
import { ConnectError } from "@connectrpc/connect";
import { Command } from "commander";
import { isRegistryError } from "../core/errors.js";
import { registerLogin } from "./commands/login.js";
import { registerModules } from "./commands/modules.js";
import { registerOrgs } from "./commands/orgs.js";
import { registerPlugins } from "./commands/plugins.js";
import { registerPush } from "./commands/push.js";
import { registerServe } from "./commands/serve.js";
import { registerTemplates } from "./commands/templates.js";
import { registerUsers } from "./commands/users.js";

const program = new Command("protodepot")
  .description("protodepot: a self-hosted Protobuf schema registry")
  .showHelpAfterError();
registerServe(program);
registerLogin(program);
registerPush(program);
registerUsers(program);
registerOrgs(program);
registerModules(program);
registerPlugins(program);
registerTemplates(program);

/** One line of reason (plus compiler lines when there are some), never a stack trace. */
function reasonOf(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage;
  if (isRegistryError(err)) return [err.message, ...(err.fields.details ?? [])].join("\n");
  if (err instanceof Error) return err.message;
  return String(err);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`protodepot: ${reasonOf(err)}\n`);
  process.exitCode = 1;
}
