// The one sandbox every plugin runtime uses: bwrap isolation plus per-run limits on time, memory, processes, output.

import { closeSync, constants, openSync } from "node:fs";
import { Code, RegistryError } from "../../core/errors.js";
import { bwrapArgs, bwrapPath, isBwrapAvailable, type SandboxSpec, sandboxUid } from "./bwrap.js";
import { type Cgroups, createCgroups, type RunReport } from "./cgroups.js";
import type { StdoutParts } from "./field-parts.js";
import { type ProcessOutcome, type ProcessSpec, runProcess } from "./run-process.js";

export type { SandboxFilesystem, SandboxSpec } from "./bwrap.js";

export interface SandboxLog {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SandboxLimits {
  timeoutMs: number;
  /** RAM of the whole run (every process, and the pages of its /tmp). */
  memoryBytes: number;
  /** Size of the private /tmp. */
  tmpBytes: number;
  /** Processes and threads of the run at once. */
  maxProcesses: number;
  maxOutputBytes: number;
}

export interface SandboxOptions extends SandboxLimits {
  /** Run host commands without bwrap when it is missing (a development convenience; never for images). */
  allowUnsandboxed: boolean;
  log?: SandboxLog;
  /** Tests only: pretend bwrap is missing. */
  bwrap?: boolean;
  /** Tests only: pretend the cgroup controllers are missing. */
  cgroups?: boolean;
}

export interface SandboxRun {
  /** One buffer, or parts written in order. */
  stdin: Uint8Array | readonly Uint8Array[];
  /** `owner/name:version`, in messages and `RegistryError.fields.plugin`. */
  label: string;
  signal?: AbortSignal;
}

export interface Sandbox {
  readonly limits: SandboxLimits;
  /** Whether bwrap isolates runs; false only for a development server with plugins.allowUnsandboxed. */
  readonly isolated: boolean;
  /** The host uid of a run's processes: nobody when the server is root, else the server's own. */
  readonly hostUid: number;
  /**
   * Runs one process to completion and returns its stdout, in parts (field-parts.ts). Throws RegistryError: Internal on a non-zero exit,
   * ResourceExhausted when killed for memory, Unprocessable past the output cap, DeadlineExceeded on timeout,
   * FailedPrecondition when it may not run here, Unavailable when cancelled.
   */
  run(spec: SandboxSpec, input: SandboxRun): Promise<StdoutParts>;
  /** Removes the server's cgroups; runs in flight are not waited for. */
  close(): void;
}

const mib = 2 ** 20;

export function createSandbox(opts: SandboxOptions): Sandbox {
  const bwrap = opts.bwrap ?? isBwrapAvailable();
  const limits: SandboxLimits = {
    timeoutMs: opts.timeoutMs,
    memoryBytes: opts.memoryBytes,
    tmpBytes: opts.tmpBytes,
    maxProcesses: opts.maxProcesses,
    maxOutputBytes: opts.maxOutputBytes,
  };
  if (!bwrap) {
    opts.log?.warn(
      { bwrap: bwrapPath, allowUnsandboxed: opts.allowUnsandboxed },
      opts.allowUnsandboxed
        ? "bubblewrap is missing: host plugins run unsandboxed because plugins.allowUnsandboxed is set"
        : "bubblewrap is missing: plugin runs will be refused until it is installed (apt-get install bubblewrap)",
    );
  }
  const cgroups: Cgroups | undefined = opts.cgroups === false ? undefined : createCgroups();
  if (cgroups?.missing !== undefined || opts.cgroups === false) {
    opts.log?.warn(
      { reason: cgroups?.missing ?? "disabled" },
      "cgroup v1 pids/memory controllers are not usable: plugin runs have no process limit, and memory is " +
        "limited per process (RLIMIT_DATA) with /tmp bounded by its size only",
    );
  }
  const usable = cgroups?.missing === undefined ? cgroups : undefined;
  // A root server starts bwrap as nobody (unprivileged user namespaces); otherwise bwrap runs as the server's user.
  const asNobody = bwrap && process.getuid?.() === 0;

  /** sh sets RLIMIT_DATA, joins the run's cgroups (before exec, so every descendant is inside) and execs. */
  function prefix(procsFiles: readonly string[]): string[] {
    const steps = [
      `ulimit -d ${Math.ceil(limits.memoryBytes / 1024)}`,
      ...procsFiles.map((_, i) => `echo $$ > "$${i + 1}"`),
    ];
    if (procsFiles.length) steps.push(`shift ${procsFiles.length}`);
    steps.push('exec "$@"');
    return ["/bin/sh", "-c", steps.join(" && "), "sh", ...procsFiles];
  }

  function processSpec(spec: SandboxSpec, procsFiles: readonly string[], fds: number[]): ProcessSpec {
    const [file, ...rest] = prefix(procsFiles) as [string, ...string[]];
    if (bwrap) {
      return {
        file,
        args: [...rest, bwrapPath, ...bwrapArgs(spec, limits.tmpBytes)],
        env: {},
        cwd: "/",
        killGroup: false,
        fds,
        ...(asNobody ? { uid: sandboxUid, gid: sandboxUid } : {}),
      };
    }
    return {
      file,
      args: [...rest, spec.executable, ...spec.args],
      env: spec.env,
      cwd: "/tmp",
      killGroup: true,
    };
  }

  return {
    limits,
    isolated: bwrap,
    hostUid: asNobody ? sandboxUid : (process.getuid?.() ?? 0),
    async run(spec, input) {
      const plugin = input.label;
      if (!bwrap && (spec.fs.kind === "rootfs" || !opts.allowUnsandboxed)) {
        throw new RegistryError(
          Code.FailedPrecondition,
          spec.fs.kind === "rootfs"
            ? `plugin ${plugin} cannot run: images only run inside bubblewrap (${bwrapPath}), which is not installed`
            : `plugin ${plugin} cannot run: bubblewrap (${bwrapPath}) is not installed and plugins.allowUnsandboxed is false`,
          { plugin },
        );
      }
      const group = usable?.create({
        memoryBytes: limits.memoryBytes,
        maxProcesses: limits.maxProcesses,
        ...(asNobody ? { owner: sandboxUid } : {}),
      });
      const fds =
        spec.fs.kind === "rootfs" ? [openSync(spec.fs.root, constants.O_RDONLY | constants.O_DIRECTORY)] : [];
      const started = performance.now();
      let outcome: ProcessOutcome;
      let report: RunReport = { oomKilled: false, processLimitHit: false };
      try {
        outcome = await runProcess(processSpec(spec, group?.procsFiles ?? [], fds), {
          stdin: input.stdin,
          timeoutMs: limits.timeoutMs,
          maxStdoutBytes: limits.maxOutputBytes,
          ...(input.signal ? { signal: input.signal } : {}),
        });
      } finally {
        for (const fd of fds) closeSync(fd);
        if (group) report = await group.finish();
      }
      opts.log?.debug(
        { plugin, ms: Math.round(performance.now() - started), outcome: outcome.kind, ...report },
        "plugin ran",
      );
      return outputOf(outcome, plugin, limits, report);
    },
    close() {
      cgroups?.close();
    },
  };
}

function outputOf(
  outcome: ProcessOutcome,
  plugin: string,
  limits: SandboxLimits,
  report: RunReport,
): StdoutParts {
  const processNote = report.processLimitHit
    ? ` (it reached the limit of ${limits.maxProcesses} processes, plugins.maxProcesses)`
    : "";
  switch (outcome.kind) {
    case "exited": {
      if (outcome.code === 0) return outcome.stdout;
      const how =
        outcome.code !== null ? `exited with code ${outcome.code}` : `was killed by ${outcome.signal}`;
      // The stderr tail goes in details only: every protocol prints details under the message.
      if (report.oomKilled) {
        throw new RegistryError(
          Code.ResourceExhausted,
          `plugin ${plugin} ${how}: it used more than ${Math.round(limits.memoryBytes / mib)} MiB of memory, ` +
            "its /tmp included (plugins.memoryBytes)",
          { plugin, details: tailLines(outcome.stderr) },
        );
      }
      throw new RegistryError(Code.Internal, `plugin ${plugin} ${how}${processNote}`, {
        plugin,
        details: tailLines(outcome.stderr),
      });
    }
    case "timeout":
      throw new RegistryError(
        Code.DeadlineExceeded,
        `plugin ${plugin} did not finish within ${limits.timeoutMs} ms${processNote}`,
        { plugin, details: tailLines(outcome.stderr) },
      );
    case "output-limit":
      // Not a retryable condition and not the request's size: the same module and plugin always overflow.
      throw new RegistryError(
        Code.Unprocessable,
        `plugin ${plugin} wrote more than ${limits.maxOutputBytes} bytes to stdout (plugins.maxOutputBytes)`,
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
        { cause: outcome.error },
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
