// `protodepot plugin …` and `protodepot plugin version …`.
import { PluginService } from "../../gen/protodepot/v1/plugin_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { deleteCommand } from "../delete-command.js";
import { printTable } from "../output.js";
import { parseRuntimeLib, runtimeLibHelp, runtimeLibrariesOf } from "../runtime-lib.js";
import { deprecatedLine, deprecationCommands } from "./deprecation.js";
import type { PushFlags } from "./plugin-push.js";

function sourceOf(
  v: { imageDigest: string; protocGenerator: string; protocVersion: string; command: string[] } | undefined,
): string {
  if (!v) return "";
  if (v.imageDigest) return `image ${v.imageDigest}`;
  if (v.protocGenerator) return `protoc ${v.protocVersion} --${v.protocGenerator}_out`;
  return v.command.join(" ");
}

const ecosystemHelp =
  "which package ecosystem the output is for: go (gets Go import paths), npm, python, maven or ruby " +
  "(default: the one its runtime libraries name)";

/** --ecosystem is the registry option `ecosystem`, beside any other --registry-options. */
function withEcosystem(json: string, ecosystem: string | undefined): string {
  if (ecosystem === undefined) return json;
  const options: unknown = json ? JSON.parse(json) : {};
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new Error("--registry-options must be a JSON object");
  return JSON.stringify({ ...options, ecosystem });
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerPlugins(program: CliCommand): void {
  const plugin = program.command("plugin").description("manage code generator plugins");
  pluginCreateCommand(plugin);
  pluginPushCommand(plugin);
  pluginUpdateCommand(plugin);
  pluginListCommand(plugin);
  pluginInfoCommand(plugin);
  deprecationCommands(plugin, "plugin");
  deleteCommand(plugin, "plugin", (remote, name) =>
    remote.client(PluginService).deletePlugin({ plugin: name }),
  );
  const version = plugin.command("version").description("manage plugin versions");
  versionCreateCommand(version);
  versionListCommand(version);
}

function pluginCreateCommand(plugin: CliCommand): void {
  plugin
    .command("create <plugin>")
    .description("create a plugin OWNER/NAME")
    .option("--visibility <v>", "public or private (default: the server's defaults.visibility)")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { visibility?: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(PluginService)
        .createPlugin({ plugin: name, visibility: flags.visibility ?? "" });
      process.stdout.write(
        `created ${res.plugin?.visibility} plugin ${res.plugin?.owner}/${res.plugin?.name}\n`,
      );
    });
}

function pluginPushCommand(plugin: CliCommand): void {
  plugin
    .command("push <plugin>")
    .description(
      "build a minimal image around a static binary and push it as plugin version OWNER/NAME:VERSION",
    )
    .requiredOption("--binary <path>", "the plugin's executable: static, it runs alone in the image")
    .option("--runtime-lib <lib>", runtimeLibHelp, collect, [])
    .option("--ecosystem <name>", ecosystemHelp)
    .remoteFlags()
    .action(async (ref: string, flags: PushFlags) => {
      const { pushPlugin } = await import("./plugin-push.js");
      const digest = await pushPlugin(ref, flags);
      process.stdout.write(`pushed ${ref} (${digest})\n`);
    });
}

function pluginUpdateCommand(plugin: CliCommand): void {
  plugin
    .command("update <plugin>")
    .description("change a plugin's visibility")
    .requiredOption("--visibility <v>", "public or private")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { visibility: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(PluginService)
        .updatePlugin({ plugin: name, visibility: flags.visibility });
      process.stdout.write(`plugin ${res.plugin?.owner}/${res.plugin?.name} is ${res.plugin?.visibility}\n`);
    });
}

function pluginListCommand(plugin: CliCommand): void {
  plugin
    .command("list [owner]")
    .description("list plugins of every owner, or of one")
    .remoteFlags()
    .action(async (owner: string | undefined, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { plugins } = await remote.client(PluginService).listPlugins({ owner: owner ?? "" });
      printTable([
        ["PLUGIN", "VISIBILITY", "CREATED"],
        ...plugins.map((p) => [`${p.owner}/${p.name}`, p.visibility, p.createTime]),
      ]);
    });
}

function pluginInfoCommand(plugin: CliCommand): void {
  plugin
    .command("info <plugin>")
    .description("show a plugin: visibility, creation, deprecation")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const [owner = "", short = ""] = name.split("/");
      const remote = await openRemote(flags);
      const { plugins } = await remote.client(PluginService).listPlugins({ owner });
      const p = plugins.find((x) => x.name === short);
      if (!p) throw new Error(`plugin ${name} does not exist`);
      process.stdout.write(`plugin ${p.owner}/${p.name}
visibility: ${p.visibility}
created: ${p.createTime}
`);
      const line = deprecatedLine(p);
      if (line) process.stdout.write(`${line}\n`);
    });
}

function versionCreateCommand(version: CliCommand): void {
  version
    .command("create <plugin> <version>")
    .description(
      "register a version backed by an executable on the server (admin) or by one of protoc's built-in generators",
    )
    .option("--command <cmd>", 'the command line, e.g. "/usr/bin/protoc-gen-go" (split on spaces)')
    .option("--protoc <generator>", "one of protoc's built-in generators: python, pyi, java, kotlin, cpp, …")
    .option("--runtime-lib <lib>", runtimeLibHelp, collect, [])
    .option("--ecosystem <name>", ecosystemHelp)
    .option("--registry-options <json>", 'per-registry options, e.g. {"go":{"minGoVersion":"1.21"}}', "")
    .remoteFlags()
    .action(
      async (
        name: string,
        v: string,
        flags: RemoteOptions & {
          command?: string;
          protoc?: string;
          runtimeLib: string[];
          ecosystem?: string;
          registryOptions: string;
        },
      ) => {
        if ((flags.command === undefined) === (flags.protoc === undefined)) {
          throw new Error("give exactly one of --command and --protoc");
        }
        const libs = flags.runtimeLib.map(parseRuntimeLib);
        const remote = await openRemote(flags);
        const res = await remote.client(PluginService).createPluginVersion({
          plugin: name,
          version: v,
          command: flags.command?.trim().split(/\s+/) ?? [],
          protocGenerator: flags.protoc ?? "",
          runtimeLibraries: runtimeLibrariesOf(libs),
          registryOptionsJson: withEcosystem(flags.registryOptions, flags.ecosystem),
        });
        const pv = res.pluginVersion;
        process.stdout.write(
          `created plugin version ${pv?.owner}/${pv?.name} ${pv?.version}: ${sourceOf(pv)}\n`,
        );
      },
    );
}

function versionListCommand(version: CliCommand): void {
  version
    .command("list <plugin>")
    .description("list the versions of a plugin")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { pluginVersions } = await remote.client(PluginService).listPluginVersions({ plugin: name });
      printTable([
        ["VERSION", "SOURCE", "RUNTIME LIBRARIES"],
        ...pluginVersions.map((v) => [
          v.version,
          sourceOf(v),
          [
            ...(v.runtimeLibraries?.go ?? []).map((g) => `go:${g.module}@${g.version}`),
            ...(v.runtimeLibraries?.npm ?? []).map((n) => `npm:${n.package}@${n.version}`),
            ...(v.runtimeLibraries?.python ?? []).map((p) => `python:${p.package}@${p.version}`),
            ...(v.runtimeLibraries?.maven ?? []).map(
              (m) => `maven:${m.groupId}:${m.artifactId}@${m.version}`,
            ),
            ...(v.runtimeLibraries?.ruby ?? []).map((r) => `ruby:${r.package}@${r.version}`),
            ...(v.runtimeLibraries?.rust ?? []).map((r) => `rust:${r.crate}@${r.version}`),
          ].join(" "),
        ]),
      ]);
    });
}
