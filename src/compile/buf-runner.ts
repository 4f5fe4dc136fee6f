// Every run of buf over pushed content (build, lint, breaking): in the plugin sandbox (bwrap, no network, read-only
// system tree, nothing of the host but buf and the run's own directory), as nobody, in a memory cgroup of its own,
// with a deadline, a capped stdout, and in a slot of its own fair scheduler (per pusher), so pushes neither
// exhaust the host nor starve each other (docs/architecture.md, rule "buf never runs on pushed content outside
// the sandbox").
import { chmodSync, constants, copyFileSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Code, RegistryError } from "../core/errors.js";
import { createFairScheduler } from "../generate/wrappers.js";
import { bwrapArgs, bwrapPath, isBwrapAvailable, sandboxUid } from "../plugins/sandbox/bwrap.js";
import { type Cgroups, createCgroups, type RunReport } from "../plugins/sandbox/cgroups.js";
import {
  type ProcessThread,
  type RunStdin,
  sharedProcessThread,
  type ThreadOutcome,
} from "./buf-process-thread.js";

/** config `compile`: what one buf run may use, and how many run at once. */
export interface CompileLimits {
  /** RAM of one run, its private /tmp included (cgroup memory controller). */
  memoryBytes: number;
  timeoutMs: number;
  /** buf runs at once in this process. */
  concurrency: number;
  /** buf runs at once for one pusher. */
  perPusher: number;
  /** Largest stdout of one run: the compiled image, or lint/breaking findings. */
  maxImageBytes: number;
  /** Run buf without bwrap when bwrap is missing (still with the cgroup and the other limits). */
  allowUnsandboxed: boolean;
}

const mib = 2 ** 20;

export const defaultCompileLimits: CompileLimits = {
  memoryBytes: 2048 * mib,
  timeoutMs: 60_000,
  concurrency: 2,
  perPusher: 1,
  maxImageBytes: 256 * mib,
  allowUnsandboxed: false,
};

/** buf's private /tmp (its cache, the first part of its stderr); its pages count against memoryBytes. */
const tmpBytes = 64 * mib;
/** Go's threads count as processes; buf starts a few dozen at most. */
const maxProcesses = 256;
/** Scheduling priority of buf runs: below the server's, so /healthz and downloads answer while pushes compile. */
const niceness = 10;
/** Of buf's stderr, the beginning is kept (buf sorts errors by file and line, the first are the ones to fix). */
const stderrHeadBytes = 15_000;

export interface BufRun {
  /** The user who pays for the run: runs are scheduled fairly across pushers. */
  pusher: string;
  /** `build`, `lint` or `breaking`, in messages. */
  what: string;
  args: readonly string[];
  /** Bytes, or tar entries packed off the event loop. */
  stdin?: RunStdin;
  /** A host directory buf reads (bound read-only at the same path) and runs in; else it runs in its /tmp. */
  dir?: string;
  signal?: AbortSignal | undefined;
}

export interface BufResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface BufRunner {
  readonly limits: CompileLimits;
  /**
   * Runs buf once it gets a slot. Resolves with any exit code; throws RegistryError: ResourceExhausted past the
   * memory limit or the stdout cap, Unprocessable past the deadline, FailedPrecondition when buf may not run here,
   * Unavailable when cancelled, Internal when buf cannot start.
   */
  run(run: BufRun): Promise<BufResult>;
  /** Removes the runner's cgroups and any copy of buf; runs in flight are not waited for. */
  close(): void;
}

export interface BufRunnerOptions extends Partial<CompileLimits> {
  /** The buf executable; by default the one shipped by the @bufbuild/buf package (defaultBuf). */
  buf: { file: string; args: string[] };
  log?: { warn(fields: object, message: string): void };
  /** Tests only: pretend bwrap is missing. */
  bwrap?: boolean;
  /** Where processes are spawned and their stdin packed; by default a worker thread shared by the process. */
  thread?: ProcessThread;
}

function limitsOf(opts: BufRunnerOptions): CompileLimits {
  return {
    memoryBytes: opts.memoryBytes ?? defaultCompileLimits.memoryBytes,
    timeoutMs: opts.timeoutMs ?? defaultCompileLimits.timeoutMs,
    concurrency: opts.concurrency ?? defaultCompileLimits.concurrency,
    perPusher: opts.perPusher ?? defaultCompileLimits.perPusher,
    maxImageBytes: opts.maxImageBytes ?? defaultCompileLimits.maxImageBytes,
    allowUnsandboxed: opts.allowUnsandboxed ?? defaultCompileLimits.allowUnsandboxed,
  };
}

interface BufCommand {
  file: string;
  args: string[];
  /** A directory holding a copy of buf that this runner made, removed at close. */
  copied?: string;
}

/** buf as the sandbox's user can run it: in place when nobody can reach it, else a copy in the temp dir. */
function locateBuf(buf: { file: string; args: string[] }, asNobody: boolean): BufCommand {
  let first: string | undefined;
  let rest: string[];
  try {
    [first, ...rest] = [buf.file, ...buf.args].map((p) => realpathSync(p));
  } catch (err) {
    throw new RegistryError(
      Code.Internal,
      `the buf compiler was not found at ${buf.file}`,
      {},
      { cause: err },
    );
  }
  const file = first ?? buf.file;
  // The launcher fallback (node + bin/buf) stays where it is; the platform binary is one static file.
  if (!asNobody || rest.length > 0 || reachableByOthers(file)) return { file, args: rest };
  const copied = mkdtempSync(join(tmpdir(), "protodepot-buf-"));
  chmodSync(copied, 0o755);
  const copy = join(copied, "buf");
  copyFileSync(file, copy);
  chmodSync(copy, 0o755);
  return { file: copy, args: [], copied };
}

/** buf's environment: everything under its own /tmp, and no way out to the network. */
function bufEnv(tmp: string): Record<string, string> {
  return {
    HOME: tmp,
    BUF_CACHE_DIR: `${tmp}/.cache`,
    XDG_CACHE_HOME: `${tmp}/.cache`,
    XDG_CONFIG_HOME: `${tmp}/.config`,
    // No network in the sandbox; without it (allowUnsandboxed), a proxy that refuses every connection.
    HTTP_PROXY: "http://127.0.0.1:9",
    HTTPS_PROXY: "http://127.0.0.1:9",
    NO_COLOR: "1",
    // No GOMEMLIMIT: near it, Go's collector spins for many seconds (16 s against 2.6 s for a hostile module
    // under 160 MiB) on CPU the server needs, before failing all the same; buf grows into the kill instead.
    PATH: "/usr/bin:/bin",
  };
}

/** The arguments of /bin/sh for one run: limits and cgroups outside, bwrap, then buf with its stderr kept. */
function runArgs(p: {
  buf: BufCommand;
  run: BufRun;
  tmp: string;
  cwd: string;
  env: Record<string, string>;
  bwrap: boolean;
  procsFiles: readonly string[];
  dataLimitBytes: number;
}): string[] {
  const { buf, run, tmp } = p;
  // Inside: buf's stderr goes to the private /tmp, and its beginning follows once buf is done.
  const inner = [
    "/bin/sh",
    "-c",
    `"$@" 2>${tmp}/.stderr; c=$?; head -c ${stderrHeadBytes} ${tmp}/.stderr >&2; exit $c`,
    "sh",
    buf.file,
    ...buf.args,
    ...run.args,
  ];
  const [exe, ...innerArgs] = inner as [string, ...string[]];
  const binds = [dirname(buf.file), ...buf.args.map((a) => dirname(a)), ...(run.dir ? [run.dir] : [])];
  // Outside: sh sets RLIMIT_DATA (the only memory bound when cgroups are missing; with them, a generous
  // backstop that leaves the cgroup to decide), joins the run's groups before exec, and execs the rest.
  const steps = [
    `ulimit -d ${Math.ceil(p.dataLimitBytes / 1024)}`,
    ...p.procsFiles.map((_, i) => `echo $$ > "$${i + 1}"`),
  ];
  if (p.procsFiles.length) steps.push(`shift ${p.procsFiles.length}`);
  // buf yields the CPU to the server's event loop (and to requests) whenever both want it.
  steps.push(`exec nice -n ${niceness} "$@"`);
  const prefix = ["-c", steps.join(" && "), "sh", ...p.procsFiles];
  const rest = p.bwrap
    ? [
        bwrapPath,
        ...bwrapArgs(
          { fs: { kind: "host", binds }, executable: exe, args: innerArgs, env: p.env, cwd: p.cwd },
          tmpBytes,
        ),
      ]
    : inner;
  return [...prefix, ...rest];
}

/**
 * The runner's cgroups, created at the first run: a process that never compiles (most unit tests) leaves no groups
 * behind. `usable` is undefined when the memory controller cannot be used (said once, in the log).
 */
function lazyCgroups(log: BufRunnerOptions["log"]): { usable(): Cgroups | undefined; close(): void } {
  let cgroups: Cgroups | undefined;
  return {
    usable() {
      if (!cgroups) {
        cgroups = createCgroups();
        if (cgroups.missing !== undefined) {
          log?.warn(
            { reason: cgroups.missing },
            "cgroup memory controller is not usable: buf runs are limited per process (RLIMIT_DATA) only",
          );
        }
      }
      return cgroups.missing === undefined ? cgroups : undefined;
    },
    close: () => cgroups?.close(),
  };
}

export function createBufRunner(opts: BufRunnerOptions): BufRunner {
  const limits = limitsOf(opts);
  const thread = opts.thread ?? sharedProcessThread();
  thread.warm();
  const scheduler = createFairScheduler({ slots: limits.concurrency, perOwner: limits.perPusher });
  const bwrap = opts.bwrap ?? isBwrapAvailable();
  const asNobody = bwrap && process.getuid?.() === 0;
  const groups = lazyCgroups(opts.log);
  let command: BufCommand | undefined;

  async function runOnce(run: BufRun): Promise<BufResult> {
    if (!bwrap && !limits.allowUnsandboxed) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `buf ${run.what} cannot run: bubblewrap (${bwrapPath}) is not installed and compile.allowUnsandboxed is false`,
      );
    }
    command ??= locateBuf(opts.buf, asNobody);
    const usable = groups.usable();
    const group = usable?.create({
      memoryBytes: limits.memoryBytes,
      maxProcesses,
      ...(asNobody ? { owner: sandboxUid } : {}),
    });
    // Without bwrap there is no private /tmp: the run gets a temp dir of its own instead.
    const tmp = bwrap ? "/tmp" : mkdtempSync(join(tmpdir(), "protodepot-buf-run-"));
    const cwd = run.dir ?? tmp;
    const env = bufEnv(tmp);
    const args = runArgs({
      buf: command,
      run,
      tmp,
      cwd,
      env,
      bwrap,
      procsFiles: group?.procsFiles ?? [],
      dataLimitBytes: usable ? 2 * limits.memoryBytes : limits.memoryBytes,
    });
    let outcome: ThreadOutcome;
    let report: RunReport = { oomKilled: false, processLimitHit: false };
    try {
      outcome = await thread.run(
        {
          file: "/bin/sh",
          args,
          env: bwrap ? {} : env,
          cwd: bwrap ? "/" : cwd,
          killGroup: !bwrap,
          ...(asNobody ? { uid: sandboxUid, gid: sandboxUid } : {}),
        },
        {
          stdin: run.stdin ?? { bytes: new Uint8Array(0) },
          timeoutMs: limits.timeoutMs,
          maxStdoutBytes: limits.maxImageBytes,
          signal: run.signal,
        },
      );
    } finally {
      if (group) report = await group.finish();
      if (!bwrap) rmSync(tmp, { recursive: true, force: true });
    }
    return resultOf(outcome, run.what, limits, report);
  }

  return {
    limits,
    run(run) {
      return scheduler.run(run.pusher, () => runOnce(run), { signal: run.signal });
    },
    close() {
      groups.close();
      if (command?.copied) rmSync(command.copied, { recursive: true, force: true });
      command = undefined;
    },
  };
}

/** Go's runtime says this when an allocation fails (RLIMIT_DATA, or the kernel refusing memory). */
const goOutOfMemory = /fatal error: (?:runtime: )?out of memory|cannot allocate memory/;

function resultOf(outcome: ThreadOutcome, what: string, limits: CompileLimits, report: RunReport): BufResult {
  switch (outcome.kind) {
    case "exited":
      if (report.oomKilled || (outcome.code !== 0 && goOutOfMemory.test(outcome.stderr))) {
        throw new RegistryError(
          Code.ResourceExhausted,
          `buf ${what} of the module needed more than the compile memory limit of ${Math.round(limits.memoryBytes / mib)} MiB (compile.memoryBytes): split the module, or ask an admin to raise the limit`,
        );
      }
      return { code: outcome.code, stdout: Buffer.concat(outcome.stdout), stderr: outcome.stderr };
    case "timeout":
      // The same module takes as long the next time: not a retryable 504, a push the server will not take.
      throw new RegistryError(
        Code.Unprocessable,
        `buf ${what} of the module did not finish within the compile time limit of ${limits.timeoutMs} ms (compile.timeoutMs): split the module, or ask an admin to raise the limit`,
      );
    case "output-limit":
      throw new RegistryError(
        Code.ResourceExhausted,
        `buf ${what} of the module wrote more than the limit of ${Math.round(limits.maxImageBytes / mib)} MiB (compile.maxImageBytes): split the module, or ask an admin to raise the limit`,
      );
    case "aborted":
      throw new RegistryError(Code.Unavailable, `buf ${what} was cancelled`);
    case "spawn-error":
      throw new RegistryError(Code.Internal, `buf ${what} could not be started: ${outcome.message}`);
  }
}

/** Whether every directory above `file` is searchable by others and the file executable by them. */
function reachableByOthers(file: string): boolean {
  try {
    if (!(statSync(file).mode & constants.S_IXOTH)) return false;
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      if (!(statSync(dir).mode & constants.S_IXOTH)) return false;
      if (dirname(dir) === dir) return true;
    }
  } catch {
    return false;
  }
}
