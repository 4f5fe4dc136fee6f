// `protodepot module list|info|create|update|deprecate|undeprecate|delete`, `commit list`, `label list|create|move`.
import { ModuleService } from "../../gen/protodepot/v1/module_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { deleteCommand } from "../delete-command.js";
import { printTable } from "../output.js";

interface UpdateFlags {
  visibility?: string;
  description?: string;
  defaultLabel?: string;
  breaking?: string;
  breakingCategory?: string;
  lint?: string;
  lintCategory: string[];
  label?: string;
  pregenerate?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerModules(program: CliCommand): void {
  const module = program.command("module").description("list, create and change modules");
  moduleCommands(module);
  updateCommand(module);
  deprecationCommands(module);
  deleteCommand(module, "module", (remote, name) =>
    remote.client(ModuleService).deleteModule({ module: name }),
  );
  commitCommands(program);
  labelCommands(program.command("label").description("list, create and move labels"));
}

/** `module list` and `module create`. */
function moduleCommands(module: CliCommand): void {
  module
    .command("list [owner]")
    .description("list the modules you may read, of one owner or all")
    .remoteFlags()
    .action(async (owner: string | undefined, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { modules } = await remote.client(ModuleService).listModules({ owner: owner ?? "" });
      printTable([
        ["MODULE", "VISIBILITY", "DEFAULT LABEL", "CREATED"],
        ...modules.map((m) => [`${m.owner}/${m.name}`, m.visibility, m.defaultLabel, m.createTime]),
      ]);
    });
  module
    .command("info <module>")
    .description("show a module: visibility, default label, description, deprecation")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const [owner = "", short = ""] = name.split("/");
      const remote = await openRemote(flags);
      const { modules } = await remote.client(ModuleService).listModules({ owner });
      const m = modules.find((x) => x.name === short);
      if (!m) throw new Error(`module ${name} does not exist`);
      const lines = [
        `module ${m.owner}/${m.name}`,
        `visibility: ${m.visibility}`,
        `default label: ${m.defaultLabel}`,
        ...(m.description ? [`description: ${m.description}`] : []),
        ...(m.deprecated ? [`deprecated${m.deprecationMessage ? `: ${m.deprecationMessage}` : ""}`] : []),
        `created: ${m.createTime}`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  module
    .command("create <module>")
    .description("create OWNER/NAME before its first push, to choose its visibility and default label")
    .option("--visibility <v>", "public or private (default: the server's defaults.visibility)")
    .option("--default-label <label>", "the label pushes move by default", "main")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { visibility?: string; defaultLabel: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(ModuleService)
        .createModule({ module: name, visibility: flags.visibility ?? "", defaultLabel: flags.defaultLabel });
      process.stdout.write(
        `created ${res.module?.visibility} module ${res.module?.owner}/${res.module?.name}\n`,
      );
    });
}

/** `module update`: visibility, description, default label, push policy, pre-generation. */
function updateCommand(module: CliCommand): void {
  module
    .command("update <module>")
    .description(
      "change a module's visibility, push policy (breaking changes, lint) or pre-generation templates",
    )
    .option("--visibility <v>", "public or private")
    .option("--description <text>", "a line on what the module holds ('' clears it)")
    .option("--default-label <label>", "the label unlabelled references and pushes use (one of the module's)")
    .option("--breaking <action>", "breaking changes against the label's head: off, warn or reject")
    .option("--breaking-category <c>", "FILE, PACKAGE, WIRE_JSON or WIRE (buf's categories)")
    .option("--lint <action>", "buf lint findings: off, warn or reject")
    .option("--lint-category <c>", "MINIMAL, BASIC, STANDARD, COMMENTS, UNARY_RPC (repeatable)", collect, [])
    .option("--label <label>", "set the policy of this label only (default: the module's, for every label)")
    .option(
      "--pregenerate <templates>",
      "comma-separated templates (OWNER/NAME) generated right after each push; '' clears the list",
    )
    .remoteFlags()
    .action(updateModule);
}

async function updateModule(name: string, flags: RemoteOptions & UpdateFlags): Promise<void> {
  const remote = await openRemote(flags);
  const changesPolicy =
    flags.breaking ?? flags.breakingCategory ?? flags.lint ?? flags.lintCategory[0] ?? flags.label;
  const pregenerate = (flags.pregenerate ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const res = await remote.client(ModuleService).updateModule({
    module: name,
    visibility: flags.visibility ?? "",
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    ...(flags.defaultLabel !== undefined ? { defaultLabel: flags.defaultLabel } : {}),
    pregenerate,
    clearPregenerate: flags.pregenerate !== undefined && pregenerate.length === 0,
    ...(changesPolicy === undefined
      ? {}
      : {
          policy: {
            label: flags.label ?? "",
            breaking: flags.breaking ?? "",
            breakingCategory: flags.breakingCategory ?? "",
            lint: flags.lint ?? "",
            lintCategories: flags.lintCategory.flatMap((c) => c.split(",")),
          },
        }),
  });
  const m = res.module;
  const p = res.policy;
  process.stdout.write(`module ${m?.owner}/${m?.name} is ${m?.visibility}\n`);
  if (p) {
    process.stdout.write(
      `push policy${p.label ? ` of label ${p.label}` : ""}: breaking ${p.breaking} (${p.breakingCategory}), lint ${p.lint} (${p.lintCategories.join(", ")})\n`,
    );
  }
  if (flags.pregenerate !== undefined) {
    process.stdout.write(
      res.pregenerate.length > 0
        ? `pre-generates ${res.pregenerate.join(", ")} after each push\n`
        : "pre-generates nothing\n",
    );
  }
}

/** `module deprecate` and `module undeprecate`. */
function deprecationCommands(module: CliCommand): void {
  module
    .command("deprecate <module>")
    .description("deprecate a module: it still resolves, and clients (buf too) warn whoever depends on it")
    .option("--message <text>", "what to use instead, shown with the deprecation", "")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { message: string }) => {
      const remote = await openRemote(flags);
      const res = await remote
        .client(ModuleService)
        .updateModule({ module: name, deprecationMessage: flags.message });
      const m = res.module;
      process.stdout.write(
        `module ${m?.owner}/${m?.name} is deprecated${m?.deprecationMessage ? `: ${m.deprecationMessage}` : ""}\n`,
      );
    });
  module
    .command("undeprecate <module>")
    .description("take a module's deprecation back")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const res = await remote.client(ModuleService).updateModule({ module: name, undeprecate: true });
      process.stdout.write(`module ${res.module?.owner}/${res.module?.name} is no longer deprecated\n`);
    });
}

/** `commit list`. */
function commitCommands(program: CliCommand): void {
  program
    .command("commit")
    .description("list commits")
    .command("list <module>")
    .description("list the commits of a module, newest first")
    .option("--limit <n>", "commits per page", "50")
    .option("--page-token <t>", "continue after a previous page")
    .remoteFlags()
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
}

/** `label list`, `label create` and `label move`. */
function labelCommands(label: CliCommand): void {
  label
    .command("list <module>")
    .description("list the labels of a module and the commit each points at")
    .remoteFlags()
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
      .remoteFlags()
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
