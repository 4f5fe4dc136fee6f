// `protodepot template …` and `protodepot template version …`.
import { z } from "zod";
import { TemplateService } from "../../gen/protodepot/v1/template_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { parseConfigArg } from "../config-arg.js";
import { deleteCommand } from "../delete-command.js";
import { printTable } from "../output.js";
import { deprecatedLine, deprecationCommands } from "./deprecation.js";

const templateConfig = z.object({
  plugins: z
    .array(z.object({ owner: z.string(), name: z.string(), parameter: z.string().default("") }))
    .min(1, "list at least one plugin"),
});

const versionConfig = z.object({
  plugin_versions: z.array(z.object({ owner: z.string(), name: z.string(), version: z.string() })).min(1),
});

export function registerTemplates(program: CliCommand): void {
  const template = program.command("template").description("manage templates (plugins + parameters)");
  templateWriteCommands(template);
  templateReadCommands(template);
  deprecationCommands(template, "template");
  deleteCommand(template, "template", (remote, name) =>
    remote.client(TemplateService).deleteTemplate({ template: name }),
  );
  versionCommands(template.command("version").description("manage template versions"));
}

/** `template create` and `template update`. */
function templateWriteCommands(template: CliCommand): void {
  template
    .command("create <template>")
    .description(
      'create OWNER/NAME from --config \'{"plugins":[{"owner":"bufbuild","name":"es","parameter":"target=ts"}]}\'',
    )
    .requiredOption("--config <config>", "inline JSON/YAML or a file path")
    .option("--visibility <v>", "public or private (default: the server's defaults.visibility)")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { config: string; visibility?: string }) => {
      const config = parseConfigArg(flags.config, templateConfig, "--config");
      const remote = await openRemote(flags);
      const res = await remote
        .client(TemplateService)
        .createTemplate({ template: name, plugins: config.plugins, visibility: flags.visibility ?? "" });
      process.stdout.write(
        `created ${res.template?.visibility} template ${res.template?.owner}/${res.template?.name}\n`,
      );
    });
  template
    .command("update <template>")
    .description("change a template's visibility")
    .requiredOption("--visibility <v>", "public or private")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { visibility: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(TemplateService)
        .updateTemplate({ template: name, visibility: flags.visibility });
      process.stdout.write(
        `template ${res.template?.owner}/${res.template?.name} is ${res.template?.visibility}\n`,
      );
    });
}

/** `template list` and `template show`. */
function templateReadCommands(template: CliCommand): void {
  template
    .command("list [owner]")
    .description("list templates of every owner, or of one")
    .remoteFlags()
    .action(async (owner: string | undefined, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { templates } = await remote.client(TemplateService).listTemplates({ owner: owner ?? "" });
      printTable([
        ["TEMPLATE", "VISIBILITY", "PLUGINS"],
        ...templates.map((t) => [
          `${t.owner}/${t.name}`,
          t.visibility,
          t.plugins.map((p) => `${p.owner}/${p.name}${p.parameter ? `(${p.parameter})` : ""}`).join(" "),
        ]),
      ]);
    });
  template
    .command("show <template>")
    .description("show a template's plugins, parameters and versions")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const res = await remote.client(TemplateService).getTemplate({ template: name });
      const line = deprecatedLine(res.template);
      if (line) process.stdout.write(`${line}\n`);
      for (const p of res.template?.plugins ?? [])
        process.stdout.write(`plugin ${p.owner}/${p.name} parameter "${p.parameter}"\n`);
      for (const v of res.versions) {
        const recorded = v.recordedDeprecation ? `  (${v.recordedDeprecation})` : "";
        process.stdout.write(
          `${v.name}  ${v.pluginVersions.map((p) => `${p.owner}/${p.name}:${p.version}`).join(" ")}${recorded}\n`,
        );
      }
    });
}

/** `template version create` and `template version list`. */
function versionCommands(version: CliCommand): void {
  version
    .command("create <template>")
    .description(
      'pin plugin versions: --config \'{"plugin_versions":[{"owner":"bufbuild","name":"es","version":"v2.2.0"}]}\'',
    )
    .requiredOption("--config <config>", "inline JSON/YAML or a file path")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { config: string }) => {
      const config = parseConfigArg(flags.config, versionConfig, "--config");
      const remote = await openRemote(flags);
      const res = await remote
        .client(TemplateService)
        .createTemplateVersion({ template: name, pluginVersions: config.plugin_versions });
      process.stdout.write(`${res.templateVersion?.name}\n`);
    });
  version
    .command("list <template>")
    .description("list the versions of a template and the plugin versions each pins")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { templateVersions } = await remote
        .client(TemplateService)
        .listTemplateVersions({ template: name });
      printTable([
        ["VERSION", "PLUGINS", "CREATED"],
        ...templateVersions.map((v) => [
          v.name,
          v.pluginVersions.map((p) => `${p.owner}/${p.name}:${p.version}`).join(" "),
          v.createTime,
        ]),
      ]);
    });
}
