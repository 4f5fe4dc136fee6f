// `protodepot plugin …` and `protodepot plugin version …`.
import type { Command } from "commander";
import { PluginService } from "../../gen/protodepot/v1/plugin_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import { printTable } from "../output.js";

/** `go:MODULE@VERSION` or `npm:PACKAGE@VERSION` (a scoped package keeps its leading @). */
export function parseRuntimeLib(text: string): { ecosystem: "go" | "npm"; name: string; version: string } {
  const m = /^(go|npm):(.+)@([^@]+)$/.exec(text);
  if (!m?.[1] || !m[2] || !m[3]) {
    throw new Error(`invalid --runtime-lib "${text}": use go:MODULE@VERSION or npm:PACKAGE@VERSION`);
  }
  return { ecosystem: m[1] as "go" | "npm", name: m[2], version: m[3] };
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerPlugins(program: Command): void {
  const plugin = program.command("plugin").description("manage code generator plugins");
  plugin
    .command("create <plugin>")
    .description("create a plugin OWNER/NAME")
    .option("--visibility <v>", "public or private (default: the server's defaults.visibility)")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (name: string, flags: RemoteOptions & { visibility?: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(PluginService)
        .createPlugin({ plugin: name, visibility: flags.visibility ?? "" });
      process.stdout.write(
        `created ${res.plugin?.visibility} plugin ${res.plugin?.owner}/${res.plugin?.name}\n`,
      );
    });
  plugin
    .command("push <plugin>")
    .description(
      "build a minimal image around a static binary and push it as plugin version OWNER/NAME:VERSION",
    )
    .requiredOption("--binary <path>", "the plugin's executable: static, it runs alone in the image")
    .option("--runtime-lib <lib>", "go:MODULE@VERSION or npm:PACKAGE@VERSION (repeatable)", collect, [])
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (ref: string, flags: RemoteOptions & { binary: string; runtimeLib: string[] }) => {
      const { pushPlugin } = await import("./plugin-push.js");
      const digest = await pushPlugin(ref, flags);
      process.stdout.write(`pushed ${ref} (${digest})\n`);
    });
  plugin
    .command("update <plugin>")
    .description("change a plugin's visibility")
    .requiredOption("--visibility <v>", "public or private")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (name: string, flags: RemoteOptions & { visibility: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(PluginService)
        .updatePlugin({ plugin: name, visibility: flags.visibility });
      process.stdout.write(`plugin ${res.plugin?.owner}/${res.plugin?.name} is ${res.plugin?.visibility}\n`);
    });
  plugin
    .command("list [owner]")
    .description("list plugins of every owner, or of one")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (owner: string | undefined, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { plugins } = await remote.client(PluginService).listPlugins({ owner: owner ?? "" });
      printTable([
        ["PLUGIN", "VISIBILITY", "CREATED"],
        ...plugins.map((p) => [`${p.owner}/${p.name}`, p.visibility, p.createTime]),
      ]);
    });

  const version = plugin.command("version").description("manage plugin versions");
  version
    .command("create <plugin> <version>")
    .description("register a version backed by an executable on the server (admin)")
    .requiredOption("--command <cmd>", 'the command line, e.g. "/usr/bin/protoc-gen-go" (split on spaces)')
    .option("--runtime-lib <lib>", "go:MODULE@VERSION or npm:PACKAGE@VERSION (repeatable)", collect, [])
    .option("--registry-options <json>", 'per-registry options, e.g. {"go":{"minGoVersion":"1.21"}}', "")
    .option("--remote <url>")
    .option("--token <token>")
    .action(
      async (
        name: string,
        v: string,
        flags: RemoteOptions & { command: string; runtimeLib: string[]; registryOptions: string },
      ) => {
        const libs = flags.runtimeLib.map(parseRuntimeLib);
        const remote = await openRemote(flags);
        const res = await remote.client(PluginService).createPluginVersion({
          plugin: name,
          version: v,
          command: flags.command.trim().split(/\s+/),
          runtimeLibraries: {
            go: libs.filter((l) => l.ecosystem === "go").map((l) => ({ module: l.name, version: l.version })),
            npm: libs
              .filter((l) => l.ecosystem === "npm")
              .map((l) => ({ package: l.name, version: l.version })),
          },
          registryOptionsJson: flags.registryOptions,
        });
        const pv = res.pluginVersion;
        process.stdout.write(
          `created plugin version ${pv?.owner}/${pv?.name} ${pv?.version}: ${pv?.command.join(" ")}\n`,
        );
      },
    );
  version
    .command("list <plugin>")
    .description("list the versions of a plugin")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { pluginVersions } = await remote.client(PluginService).listPluginVersions({ plugin: name });
      printTable([
        ["VERSION", "SOURCE", "RUNTIME LIBRARIES"],
        ...pluginVersions.map((v) => [
          v.version,
          v.imageDigest ? `image ${v.imageDigest}` : v.command.join(" "),
          [
            ...(v.runtimeLibraries?.go ?? []).map((g) => `go:${g.module}@${g.version}`),
            ...(v.runtimeLibraries?.npm ?? []).map((n) => `npm:${n.package}@${n.version}`),
          ].join(" "),
        ]),
      ]);
    });
}
