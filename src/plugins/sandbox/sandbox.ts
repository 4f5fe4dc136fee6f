// The one sandbox every plugin runtime uses: bwrap isolation plus per-run limits on time, memory, processes, output.

import { closeSync, constants, openSync } from "node:fs";
import { Code, RegistryError } from "../../core/errors.js";
import { bwrapArgs, bwrapPath, isBwrapAvailable, type SandboxSpec, sandboxUid } from "./bwrap.js";
import { type CgroupMode, type Cgroups, createCgroups, type RunReport } from "./cgroups.js";
import type { StdoutParts } from "./field-parts.js";
import { limitChain, missingTools, type SandboxBounds } from "./run-limits.js";
import { type ProcessOutcome, type ProcessSpec, runProcess } from "./run-process.js";
import { createUidSlots, type UidRange, type UidSlot, type UidSlots } from "./uid-slots.js";

export type { SandboxFilesystem, SandboxSpec } from "./bwrap.js";
export type { SandboxBounds } from "./run-limits.js";
export type { UidRange } from "./uid-slots.js";

export interface SandboxLog {
  debug(fields: object, message: string): void;
  /** The start-up line that says how runs are bounded (warn is used instead when it is absent). */
  info?(fields: object, message: string): void;
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
  /**
   * Which cgroup hierarchy bounds runs (sandbox.cgroups): `auto` (v2, else v1), `v1`, `v2`, or `off` (then the
   * rlimits fallback). `false` is `off` and `true` is `auto`, as tests have long passed them.
   */
  cgroups?: boolean | CgroupMode | "off";
  /** Host uids for the rlimits fallback, one per concurrent run (sandbox.uidRange). */
  uidRange?: UidRange;
  /** Address space of one process under the rlimits fallback (RLIMIT_AS; sandbox.addressSpaceBytes). */
  addressSpaceBytes?: number;
  /** Run owner-pushed plugins (images) even when nothing bounds their processes and memory (sandbox.allowUnbounded). */
  allowUnbounded?: boolean;
  /** Tests only: where the uid lock files go. */
  uidLockDir?: string;
}

/** What /healthz says about the sandbox: how runs are bounded, and whether owner-pushed plugins run. */
export interface SandboxStatus {
  limits: SandboxBounds;
  /** `refused` when nothing bounds runs and sandbox.allowUnbounded is not set. */
  pushedPlugins: "bounded" | "unbounded" | "refused";
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
  /**
   * The host uid of a run's processes: nobody when the server is root, else the server's own. Under the rlimits
   * fallback each run has its own uid of sandbox.uidRange, which owns no file: nobody stands for them all in
   * permission checks (only "other" bits apply to either).
   */
  readonly hostUid: number;
  /** How each run's processes and memory are bounded: cgroup-v2, cgroup-v1, rlimits, or none. */
  readonly bounds: SandboxBounds;
  status(): SandboxStatus;
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
const gib = 2 ** 30;

/** How this host bounds runs, decided once at start: cgroups, else per-run uids under rlimits, else nothing. */
interface Enforcement {
  bwrap: boolean;
  /** A root server runs bwrap as nobody (unprivileged user namespaces), or as a run's own uid under rlimits. */
  dropsToUser: boolean;
  cgroups: Cgroups | undefined;
  slots: UidSlots | undefined;
  bounds: SandboxBounds;
  /** Why a better bound is not in use, for the start-up line. */
  reasons: string[];
}

function chooseEnforcement(opts: SandboxOptions, bwrap: boolean): Enforcement {
  const root = process.getuid?.() === 0;
  const dropsToUser = bwrap && root;
  const mode = cgroupMode(opts.cgroups);
  const reasons: string[] = [];
  let cgroups: Cgroups | undefined;
  if (mode === "off") reasons.push("cgroups are switched off (sandbox.cgroups: off)");
  else {
    cgroups = createCgroups({ mode });
    if (cgroups.missing !== undefined) {
      reasons.push(cgroups.missing);
      cgroups = undefined;
    }
  }
  // Dropping to another uid after joining the groups takes setpriv; the rlimits fallback takes prlimit too.
  const tools = dropsToUser ? missingTools() : [];
  if (tools.length) {
    reasons.push(`util-linux is missing ${tools.join(", ")}`);
    cgroups?.close();
    cgroups = undefined;
  }
  let slots: UidSlots | undefined;
  if (!cgroups && bwrap && !tools.length) {
    if (!root) reasons.push("the rlimits fallback needs a root server (a uid of its own for each run)");
    else if (!opts.uidRange) reasons.push("the rlimits fallback needs sandbox.uidRange");
    else {
      slots = createUidSlots(opts.uidRange, opts.uidLockDir ? { lockDir: opts.uidLockDir } : {});
      if (slots.missing !== undefined) {
        reasons.push(slots.missing);
        slots = undefined;
      }
    }
  }
  const bounds: SandboxBounds =
    cgroups?.version === "v2"
      ? "cgroup-v2"
      : cgroups?.version === "v1"
        ? "cgroup-v1"
        : slots
          ? "rlimits"
          : "none";
  return { bwrap, dropsToUser, cgroups, slots, bounds, reasons };
}

/** The command line of one run: bwrap (as nobody, or as the run's uid under rlimits) inside the limit chain. */
function processSpec(
  e: Enforcement,
  limits: SandboxLimits,
  addressSpaceBytes: number,
  run: { spec: SandboxSpec; procsFiles: readonly string[]; uid: number | undefined; fds: number[] },
): ProcessSpec {
  const { spec, uid } = run;
  const data = { dataBytes: limits.memoryBytes, procsFiles: run.procsFiles };
  if (!e.bwrap) {
    const [file, ...args] = limitChain(data, [spec.executable, ...spec.args]);
    return { file, args, env: spec.env, cwd: "/tmp", killGroup: true };
  }
  const rlimits = { maxProcesses: limits.maxProcesses, fileBytes: limits.tmpBytes, addressSpaceBytes };
  const user = uid !== undefined ? { uid, rlimits } : e.dropsToUser ? { uid: sandboxUid } : {};
  const [file, ...args] = limitChain({ ...data, ...user }, [bwrapPath, ...bwrapArgs(spec, limits.tmpBytes)]);
  return { file, args, env: {}, cwd: "/", killGroup: false, fds: run.fds };
}

/** Throws FailedPrecondition when this run may not happen here (no bwrap, or a pushed plugin that cannot be bounded). */
function checkMayRun(
  spec: SandboxSpec,
  plugin: string,
  e: Enforcement,
  allowUnsandboxed: boolean,
  pushedPlugins: SandboxStatus["pushedPlugins"],
): void {
  if (!e.bwrap && (spec.fs.kind === "rootfs" || !allowUnsandboxed)) {
    throw new RegistryError(
      Code.FailedPrecondition,
      spec.fs.kind === "rootfs"
        ? `plugin ${plugin} cannot run: images only run inside bubblewrap (${bwrapPath}), which is not installed`
        : `plugin ${plugin} cannot run: bubblewrap (${bwrapPath}) is not installed and plugins.allowUnsandboxed is false`,
      { plugin },
    );
  }
  // Images are what owners push (oci pushes and --binary); host commands and protoc are the admin's choice.
  if (spec.fs.kind === "rootfs" && pushedPlugins === "refused") {
    throw new RegistryError(
      Code.FailedPrecondition,
      `plugin ${plugin} cannot run: this server cannot bound the processes and memory of pushed plugins ` +
        "(no usable cgroups and no rlimits fallback; see the start-up log) and sandbox.allowUnbounded is false",
      { plugin },
    );
  }
}

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
  const e = chooseEnforcement(opts, bwrap);
  const { bounds, cgroups, slots } = e;
  const pushedPlugins: SandboxStatus["pushedPlugins"] =
    bounds !== "none" ? "bounded" : (opts.allowUnbounded ?? false) ? "unbounded" : "refused";
  logBounds(opts.log, { bounds, reasons: e.reasons, slots, limits, pushedPlugins });
  const addressSpaceBytes = Math.max(opts.addressSpaceBytes ?? 8 * gib, limits.memoryBytes);

  async function run(spec: SandboxSpec, input: SandboxRun): Promise<StdoutParts> {
    const plugin = input.label;
    checkMayRun(spec, plugin, e, opts.allowUnsandboxed, pushedPlugins);
    const group = cgroups?.create({ memoryBytes: limits.memoryBytes, maxProcesses: limits.maxProcesses });
    let slot: UidSlot | undefined;
    const fds: number[] = [];
    const started = performance.now();
    let outcome: ProcessOutcome;
    let report: RunReport = { oomKilled: false, processLimitHit: false };
    try {
      if (slots && bwrap) slot = await slots.acquire();
      if (spec.fs.kind === "rootfs")
        fds.push(openSync(spec.fs.root, constants.O_RDONLY | constants.O_DIRECTORY));
      const procsFiles = group?.procsFiles ?? [];
      outcome = await runProcess(
        processSpec(e, limits, addressSpaceBytes, { spec, procsFiles, uid: slot?.uid, fds }),
        {
          stdin: input.stdin,
          timeoutMs: limits.timeoutMs,
          maxStdoutBytes: limits.maxOutputBytes,
          ...(input.signal ? { signal: input.signal } : {}),
        },
      );
    } finally {
      for (const fd of fds) closeSync(fd);
      if (group) report = await group.finish();
      // The uid is free again once nothing runs as it (in the background: the answer need not wait).
      if (slot) void slot.release();
    }
    const ms = Math.round(performance.now() - started);
    opts.log?.debug({ plugin, ms, outcome: outcome.kind, limits: bounds, ...report }, "plugin ran");
    return outputOf(outcome, plugin, limits, report);
  }

  return {
    limits,
    isolated: bwrap,
    hostUid: e.dropsToUser ? sandboxUid : (process.getuid?.() ?? 0),
    bounds,
    status: () => ({ limits: bounds, pushedPlugins }),
    run,
    close() {
      cgroups?.close();
    },
  };
}

function cgroupMode(value: SandboxOptions["cgroups"]): CgroupMode | "off" {
  if (value === false) return "off";
  if (value === true || value === undefined) return "auto";
  return value;
}

/** The one start-up line that says how runs are bounded here, and why not better. */
function logBounds(
  log: SandboxLog | undefined,
  s: {
    bounds: SandboxBounds;
    reasons: string[];
    slots: UidSlots | undefined;
    limits: SandboxLimits;
    pushedPlugins: SandboxStatus["pushedPlugins"];
  },
) {
  if (!log) return;
  const fields = {
    limits: s.bounds,
    pushedPlugins: s.pushedPlugins,
    maxProcesses: s.limits.maxProcesses,
    memoryBytes: s.limits.memoryBytes,
    ...(s.reasons.length ? { reasons: s.reasons } : {}),
    ...(s.slots ? { uids: s.slots.uids.length } : {}),
  };
  switch (s.bounds) {
    case "cgroup-v2":
    case "cgroup-v1":
      (log.info ?? log.warn).call(
        log,
        fields,
        "plugin runs are bounded by cgroups (processes, memory with /tmp)",
      );
      return;
    case "rlimits":
      log.warn(
        fields,
        "cgroups are not usable: plugin runs are bounded by rlimits, one uid each (processes per run; memory " +
          "per process; /tmp by its size)",
      );
      return;
    case "none":
      log.warn(
        fields,
        s.pushedPlugins === "refused"
          ? "plugin runs cannot be bounded here: pushed plugins are refused until cgroups or sandbox.uidRange " +
              "work, or sandbox.allowUnbounded is set"
          : "plugin runs cannot be bounded here: pushed plugins run unbounded because sandbox.allowUnbounded is set",
      );
  }
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
