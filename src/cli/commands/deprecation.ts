// `plugin deprecate|undeprecate|info` and `template deprecate|undeprecate`: an owner's deprecation and how it reads.
import { PluginService } from "../../gen/protodepot/v1/plugin_pb.js";
import { TemplateService } from "../../gen/protodepot/v1/template_pb.js";
import { openRemote, type Remote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";

interface Deprecatable {
  owner: string;
  name: string;
  deprecated: boolean;
  deprecationMessage: string;
}

type Kind = "plugin" | "template";

/** `deprecated: use acme/billing` (or just `deprecated`), or undefined when it is not. */
export function deprecatedLine(thing: Deprecatable | undefined): string | undefined {
  if (!thing?.deprecated) return undefined;
  return `deprecated${thing.deprecationMessage ? `: ${thing.deprecationMessage}` : ""}`;
}

/** One update call per kind; the API's request fields have the same names for both. */
async function update(
  remote: Remote,
  kind: Kind,
  name: string,
  change: { deprecationMessage?: string; undeprecate?: boolean },
): Promise<Deprecatable | undefined> {
  if (kind === "plugin")
    return (await remote.client(PluginService).updatePlugin({ plugin: name, ...change })).plugin;
  return (await remote.client(TemplateService).updateTemplate({ template: name, ...change })).template;
}

const consumers: Record<Kind, string> = {
  plugin: "templates pinning it still generate, and their packages tell consumers it is deprecated",
  template: "its packages still install, and npm, Go, PyPI and the web UI tell consumers it is deprecated",
};

export function deprecationCommands(parent: CliCommand, kind: Kind): void {
  parent
    .command(`deprecate <${kind}>`)
    .description(`deprecate a ${kind}: ${consumers[kind]}`)
    .option("--message <text>", "what to use instead, shown with the deprecation", "")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { message: string }) => {
      const t = await update(await openRemote(flags), kind, name, { deprecationMessage: flags.message });
      process.stdout.write(`${kind} ${t?.owner}/${t?.name} is ${deprecatedLine(t) ?? "not deprecated"}\n`);
    });
  parent
    .command(`undeprecate <${kind}>`)
    .description(`take a ${kind}'s deprecation back`)
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const t = await update(await openRemote(flags), kind, name, { undeprecate: true });
      process.stdout.write(`${kind} ${t?.owner}/${t?.name} is no longer deprecated\n`);
    });
}
