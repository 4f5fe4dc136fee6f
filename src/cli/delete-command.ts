// `module delete`, `plugin delete`, `template delete`: one shape, refused without --force (it cannot be undone).
import { openRemote, type Remote, type RemoteOptions } from "./client.js";
import type { CliCommand } from "./command.js";

export function deleteCommand(
  parent: CliCommand,
  kind: "module" | "plugin" | "template",
  remove: (remote: Remote, name: string) => Promise<unknown>,
): void {
  parent
    .command(`delete <${kind}>`)
    .description(
      `delete a ${kind} (owners only; refused while anything depends on it): its name then answers 410 Gone and stays reserved (docs/lifecycle.md)`,
    )
    .option("--force", "confirm: a deletion cannot be undone")
    .remoteFlags()
    .action(async (name: string, flags: RemoteOptions & { force?: boolean }) => {
      if (!flags.force) {
        throw new Error(
          `deleting ${kind} ${name} cannot be undone: its name answers 410 Gone and stays reserved; pass --force to delete it`,
        );
      }
      await remove(await openRemote(flags), name);
      process.stdout.write(`deleted ${kind} ${name}\n`);
    });
}
