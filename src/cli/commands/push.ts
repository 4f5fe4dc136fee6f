// `protodepot push DIR`: send a module directory (or each module of a v2 workspace) to the registry, which
// compiles each into a commit.
import { ModuleService } from "../../gen/protodepot/v1/module_pb.js";
import { readWorkspace, type WorkspaceModule } from "../../workspace/module-dir.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { formatBytes, progress } from "../output.js";

export function registerPush(program: CliCommand): void {
  program
    .command("push <dir>")
    .description("push a module directory (with buf.yaml) as a new commit")
    .option("--label <label>", "label to move to the commit", "main")
    .option(
      "--module <owner/name>",
      "module name when buf.yaml has none, or the one module of a workspace to push",
    )
    .option("--visibility <v>", "public or private, when the push creates the module (default: the server's)")
    .option("--allow-breaking", "store the commit despite breaking changes the push policy rejects (owners)")
    .remoteFlags()
    .action(
      async (
        dir: string,
        flags: RemoteOptions & {
          label: string;
          module?: string;
          visibility?: string;
          allowBreaking?: boolean;
        },
      ) => {
        const remote = await openRemote(flags);
        const client = remote.client(ModuleService);
        for (const module of await modulesToPush(dir, flags.module)) {
          const { files } = module;
          const bytes = files.reduce((n, f) => n + f.content.byteLength, 0);
          const from = module.path === "." ? dir : `${dir}/${module.path}`;
          progress(`collected ${files.length} files (${formatBytes(bytes)}) from ${from}`);
          progress(`uploading to ${remote.url} and compiling…`);
          const started = performance.now();
          const res = await client.push({
            module: module.name ?? flags.module ?? "",
            files,
            label: flags.label,
            visibility: flags.visibility ?? "",
            allowBreaking: flags.allowBreaking ?? false,
          });
          for (const warning of res.warnings) progress(`warning: ${warning}`);
          const c = res.commit;
          if (!c) throw new Error("the server answered without a commit");
          const ms = Math.round(performance.now() - started);
          progress(`${res.created ? "compiled and stored" : "unchanged"} in ${ms} ms`);
          const verb = res.created ? "pushed" : "unchanged, the module already has this content:";
          process.stdout.write(
            `${verb} ${c.owner}/${c.module} commit ${c.id} seq ${c.seq} label ${flags.label}\n`,
          );
        }
      },
    );
}

/** One module, the one --module names in a workspace, or every module of the workspace in dependency order. */
async function modulesToPush(dir: string, wanted: string | undefined): Promise<WorkspaceModule[]> {
  const modules = await readWorkspace(dir);
  if (modules.length === 1) return modules;
  const describe = modules.map((m) => `${m.name ?? "unnamed"} at ${m.path}`).join(", ");
  if (wanted !== undefined) {
    const bare = wanted.split("/").slice(-2).join("/");
    const chosen = modules.filter((m) => m.name === bare);
    if (chosen.length === 0) throw new Error(`buf.yaml declares no module ${bare} (modules: ${describe})`);
    return chosen;
  }
  const unnamed = modules.find((m) => m.name === undefined);
  if (unnamed) {
    throw new Error(
      `the workspace module at ${unnamed.path} has no name: set \`name: HOST/OWNER/MODULE\` under its entry in \`modules:\` of buf.yaml, or push one module with --module OWNER/NAME (modules: ${describe})`,
    );
  }
  return modules;
}
