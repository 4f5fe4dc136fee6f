// `protodepot module list`, `commit list`, `label list|create|move`.
import type { Command } from "commander";
import { ModuleService } from "../../gen/protodepot/v1/module_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import { printTable } from "../output.js";

export function registerModules(program: Command): void {
  const module = program.command("module").description("list, create and change modules");
  module
    .command("list [owner]")
    .description("list the modules you may read, of one owner or all")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (owner: string | undefined, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { modules } = await remote.client(ModuleService).listModules({ owner: owner ?? "" });
      printTable([
        ["MODULE", "VISIBILITY", "DEFAULT LABEL", "CREATED"],
        ...modules.map((m) => [`${m.owner}/${m.name}`, m.visibility, m.defaultLabel, m.createTime]),
      ]);
    });
  module
    .command("create <module>")
    .description("create OWNER/NAME before its first push, to choose its visibility and default label")
    .option("--visibility <v>", "public or private (default: the server's defaults.visibility)")
    .option("--default-label <label>", "the label pushes move by default", "main")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (name: string, flags: RemoteOptions & { visibility?: string; defaultLabel: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(ModuleService)
        .createModule({ module: name, visibility: flags.visibility ?? "", defaultLabel: flags.defaultLabel });
      process.stdout.write(
        `created ${res.module?.visibility} module ${res.module?.owner}/${res.module?.name}\n`,
      );
    });
  module
    .command("update <module>")
    .description("change a module's visibility")
    .requiredOption("--visibility <v>", "public or private")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (name: string, flags: RemoteOptions & { visibility: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(ModuleService)
        .updateModule({ module: name, visibility: flags.visibility });
      process.stdout.write(`module ${res.module?.owner}/${res.module?.name} is ${res.module?.visibility}\n`);
    });

  program
    .command("commit")
    .description("list commits")
    .command("list <module>")
    .option("--limit <n>", "commits per page", "50")
    .option("--page-token <t>", "continue after a previous page")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (module: string, flags: RemoteOptions & { limit: string; pageToken?: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(ModuleService)
        .listCommits({ module, pageSize: Number(flags.limit), pageToken: flags.pageToken ?? "" });
      printTable([
        ["SEQ", "COMMIT", "DIGEST", "BY", "CREATED"],
        ...res.commits.map((c) => [String(c.seq), c.id, c.digest, c.createdBy, c.createTime]),
      ]);
      if (res.nextPageToken) process.stderr.write(`more: --page-token ${res.nextPageToken}\n`);
    });

  const label = program.command("label").description("list, create and move labels");
  label
    .command("list <module>")
    .option("--remote <url>")
    .option("--token <token>")
    .action(async (module: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { labels } = await remote.client(ModuleService).listLabels({ module });
      printTable([
        ["LABEL", "SEQ", "COMMIT", "UPDATED"],
        ...labels.map((l) => [l.name, String(l.commitSeq), l.commitId, l.updateTime]),
      ]);
    });
  for (const verb of ["create", "move"] as const) {
    label
      .command(`${verb} <module> <label> <ref>`)
      .description(`${verb} a label to point at a commit id or another label's commit`)
      .option("--remote <url>")
      .option("--token <token>")
      .action(async (module: string, name: string, ref: string, flags: RemoteOptions) => {
        const remote = await openRemote(flags);
        const client = remote.client(ModuleService);
        const req = { module, label: name, ref };
        const res = verb === "create" ? await client.createLabel(req) : await client.moveLabel(req);
        process.stdout.write(
          `label ${res.label?.name} -> ${res.label?.commitId} (seq ${res.label?.commitSeq})\n`,
        );
      });
  }
}
