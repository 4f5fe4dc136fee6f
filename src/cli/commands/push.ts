// `protodepot push DIR`: send a module directory to the registry, which compiles it into a commit.
import type { Command } from "commander";
import { ModuleService } from "../../gen/protodepot/v1/module_pb.js";
import { readModuleDir } from "../../workspace/module-dir.js";
import { openRemote, type RemoteOptions } from "../client.js";
import { formatBytes, progress } from "../output.js";

export function registerPush(program: Command): void {
  program
    .command("push <dir>")
    .description("push a module directory (with buf.yaml) as a new commit")
    .option("--label <label>", "label to move to the commit", "main")
    .option("--module <owner/name>", "module name, when buf.yaml has none")
    .option("--visibility <v>", "public or private, when the push creates the module (default: the server's)")
    .option("--remote <url>", "registry URL")
    .option("--token <token>", "token")
    .action(
      async (dir: string, flags: RemoteOptions & { label: string; module?: string; visibility?: string }) => {
        const remote = await openRemote(flags);
        const files = await readModuleDir(dir);
        const bytes = files.reduce((n, f) => n + f.content.byteLength, 0);
        progress(`collected ${files.length} files (${formatBytes(bytes)}) from ${dir}`);
        progress(`uploading to ${remote.url} and compiling…`);
        const started = performance.now();
        const res = await remote.client(ModuleService).push({
          module: flags.module ?? "",
          files,
          label: flags.label,
          visibility: flags.visibility ?? "",
        });
        const c = res.commit;
        if (!c) throw new Error("the server answered without a commit");
        const ms = Math.round(performance.now() - started);
        progress(`${res.created ? "compiled and stored" : "unchanged"} in ${ms} ms`);
        const verb = res.created ? "pushed" : "unchanged, label's head already has this content:";
        process.stdout.write(
          `${verb} ${c.owner}/${c.module} commit ${c.id} seq ${c.seq} label ${flags.label}\n`,
        );
      },
    );
}
