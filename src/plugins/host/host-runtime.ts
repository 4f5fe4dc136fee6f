// Runs admin-configured host commands as plugins, inside the shared sandbox.
import { createCache } from "../../core/cache.js";
import { Code, RegistryError } from "../../core/errors.js";
import type { PluginRun, PluginRuntime } from "../runtime.js";
import type { StdoutParts } from "../sandbox/field-parts.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { type HostCommand, resolveCommand } from "./command.js";

export function createHostRuntime(sandbox: Sandbox): PluginRuntime {
  // An admin's command resolves to the same binds until the host changes: once per command line.
  const resolved = createCache<HostCommand>({ bound: { maxEntries: 1000 } });
  // For node scripts V8 would otherwise size its heap from the machine's RAM and die mid-allocation (or be
  // OOM-killed by the memory cgroup); --max-old-space-size at 3/4 of the limit makes it fail with a readable
  // "heap out of memory" first.
  const heapMiB = Math.max(16, Math.floor((sandbox.limits.memoryBytes * 3) / 4 / 2 ** 20));
  const nodeOptions = `--max-old-space-size=${heapMiB}`;

  return {
    async run(input: PluginRun): Promise<StdoutParts> {
      const plugin = input.label;
      if (input.source.kind !== "host") {
        throw new RegistryError(Code.Internal, `plugin ${plugin} is not a host command`, { plugin });
      }
      const key = JSON.stringify(input.source.command);
      let command = resolved.get(key);
      if (!command) {
        try {
          command = resolveCommand(input.source.command);
        } catch (err) {
          throw new RegistryError(
            Code.FailedPrecondition,
            `plugin ${plugin} cannot run: ${err instanceof Error ? err.message : String(err)}`,
            { plugin },
            { cause: err },
          );
        }
        resolved.set(key, command);
      }
      return sandbox.run(
        {
          fs: { kind: "host", binds: command.binds },
          executable: command.executable,
          args: command.args,
          env: { PATH: command.path, HOME: "/tmp", NODE_OPTIONS: nodeOptions },
          cwd: "/tmp",
        },
        { stdin: input.request, label: plugin, ...(input.signal ? { signal: input.signal } : {}) },
      );
    },
  };
}
