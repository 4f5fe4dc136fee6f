// Runs admin-configured host commands as plugins, inside bubblewrap whenever it is installed.
import { accessSync, constants, existsSync } from "node:fs";
import { Code, RegistryError } from "../../core/errors.js";
import type { PluginRun, PluginRuntime } from "../runtime.js";
import { type ProcessOutcome, type ProcessSpec, runProcess } from "./run-process.js";
import { bwrapArgs, bwrapPath, resolveCommand, type SandboxCommand } from "./sandbox.js";

export interface HostRuntimeLog {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface HostRuntimeOptions {
  timeoutMs: number;
  memoryBytes: number;
  maxOutputBytes: number;
  /** Run without bwrap when it is missing (a development convenience; never for untrusted plugins). */
  allowUnsandboxed: boolean;
  log?: HostRuntimeLog;
  /** Tests only: pretend bwrap is missing. */
  sandbox?: boolean;
}

const prlimitPath = "/usr/bin/prlimit";

/** True when bubblewrap is installed where the runtime looks for it. */
export function isSandboxAvailable(): boolean {
  try {
    accessSync(bwrapPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Memory limit. Measured here (Node 20, protoc-gen-go 1.28, Linux 6): RLIMIT_AS breaks both kinds of plugins at
 * any useful size — V8 reserves large PROT_NONE ranges up front (node fails at 512 MiB) and Go's runtime reserves
 * its arena index (protoc-gen-go fails at 512 MiB). RLIMIT_DATA counts only writable private mappings, so those
 * reservations are free and real allocations are capped: node with 256 MiB fails to allocate 1 GiB of Buffers or
 * a large heap, protoc-gen-go and protoc-gen-es run normally. cgroups would be better but are not available to us
 * (crun fails here). For node scripts V8 would otherwise size its heap from the machine's RAM and die mid-
 * allocation; --max-old-space-size at 3/4 of the limit makes it fail with a readable "heap out of memory" first.
 * The limit is set by prlimit before exec, so it applies to bwrap and everything it starts.
 */
function memoryPrefix(memoryBytes: number): string[] {
  if (existsSync(prlimitPath)) return [prlimitPath, `--data=${memoryBytes}:${memoryBytes}`, "--"];
  // dash and bash both take `ulimit -d` in KiB.
  return ["/bin/sh", "-c", `ulimit -d ${Math.ceil(memoryBytes / 1024)} && exec "$@"`, "sh"];
}

export function createHostRuntime(opts: HostRuntimeOptions): PluginRuntime {
  const sandboxed = opts.sandbox ?? isSandboxAvailable();
  const resolved = new Map<string, SandboxCommand>();
  if (!sandboxed) {
    opts.log?.warn(
      { bwrap: bwrapPath, allowUnsandboxed: opts.allowUnsandboxed },
      opts.allowUnsandboxed
        ? "bubblewrap is missing: host plugins run unsandboxed because plugins.allowUnsandboxed is set"
        : "bubblewrap is missing: plugin runs will be refused until it is installed (apt-get install bubblewrap)",
    );
  }
  const nodeOptions = `--max-old-space-size=${Math.max(16, Math.floor((opts.memoryBytes * 3) / 4 / 2 ** 20))}`;

  function spec(command: SandboxCommand): ProcessSpec {
    const env = { PATH: command.path, HOME: "/tmp", NODE_OPTIONS: nodeOptions };
    const [file, ...prefix] = memoryPrefix(opts.memoryBytes) as [string, ...string[]];
    if (sandboxed) {
      return {
        file,
        args: [...prefix, bwrapPath, ...bwrapArgs({ command, env })],
        env: {},
        cwd: "/",
        killGroup: false,
      };
    }
    return {
      file,
      args: [...prefix, command.executable, ...command.args],
      env,
      cwd: "/tmp",
      killGroup: true,
    };
  }

  return {
    async run(input: PluginRun): Promise<Uint8Array> {
      const plugin = input.label;
      if (!sandboxed && !opts.allowUnsandboxed) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `plugin ${plugin} cannot run: bubblewrap (${bwrapPath}) is not installed and plugins.allowUnsandboxed is false`,
          { plugin },
        );
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
      const started = performance.now();
      const outcome = await runProcess(spec(command), {
        stdin: input.request,
        timeoutMs: opts.timeoutMs,
        maxStdoutBytes: opts.maxOutputBytes,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      opts.log?.debug(
        { plugin, ms: Math.round(performance.now() - started), outcome: outcome.kind },
        "plugin ran",
      );
      return outputOf(outcome, plugin, opts);
    },
  };
}

function outputOf(outcome: ProcessOutcome, plugin: string, opts: HostRuntimeOptions): Uint8Array {
  switch (outcome.kind) {
    case "exited": {
      if (outcome.code === 0) return outcome.stdout;
      const how =
        outcome.code !== null ? `exited with code ${outcome.code}` : `was killed by ${outcome.signal}`;
      // The stderr tail goes in details only: every protocol prints details under the message.
      throw new RegistryError(Code.Internal, `plugin ${plugin} ${how}`, {
        plugin,
        details: tailLines(outcome.stderr),
      });
    }
    case "timeout":
      throw new RegistryError(
        Code.DeadlineExceeded,
        `plugin ${plugin} did not finish within ${opts.timeoutMs} ms`,
        { plugin, details: tailLines(outcome.stderr) },
      );
    case "output-limit":
      // Not a retryable condition and not the request's size: the same module and plugin always overflow.
      throw new RegistryError(
        Code.Unprocessable,
        `plugin ${plugin} wrote more than ${opts.maxOutputBytes} bytes to stdout (plugins.maxOutputBytes)`,
        { plugin },
      );
    case "aborted":
      throw new RegistryError(
        Code.Unavailable,
        `plugin ${plugin} run was cancelled`,
        { plugin },
        { cause: outcome.reason },
      );
    case "spawn-error":
      throw new RegistryError(
        Code.Internal,
        `plugin ${plugin} could not be started: ${outcome.error.message}`,
        { plugin },
        {
          cause: outcome.error,
        },
      );
  }
}

const maxStderrLines = 10;

function tailLines(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .slice(-maxStderrLines);
}
