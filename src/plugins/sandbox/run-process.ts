// Runs one child process with stdin bytes in, capped stdout out (in parts, field-parts.ts), a stderr tail, a deadline and cancellation.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createFieldParts, type StdoutParts } from "./field-parts.js";

export interface ProcessSpec {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  /**
   * Kill the whole process group rather than the child alone. Used when running without bwrap, where nothing
   * else reaps the plugin's own children; under bwrap the child is PID 1 of its namespace and takes them along.
   */
  killGroup: boolean;
  /** Start the process as this user and group (the server must be root). */
  uid?: number;
  gid?: number;
  /** Open descriptors handed to the child as fd 3, 4, … */
  fds?: readonly number[];
}

export interface ProcessLimits {
  /** One buffer, or parts written in order. */
  stdin: Uint8Array | readonly Uint8Array[];
  timeoutMs: number;
  maxStdoutBytes: number;
  signal?: AbortSignal;
}

export type ProcessOutcome =
  | {
      kind: "exited";
      code: number | null;
      signal: NodeJS.Signals | null;
      stdout: StdoutParts;
      stderr: string;
    }
  | { kind: "timeout"; stderr: string }
  | { kind: "output-limit"; stderr: string }
  | { kind: "aborted"; reason: unknown }
  | { kind: "spawn-error"; error: Error };

// Enough for a stack trace; a plugin printing gigabytes to stderr must not fill our memory.
const stderrTailBytes = 16 * 1024;
/**
 * How long a stopped run's pipes may stay open after its process is gone. Something it started can outlive it and
 * hold them (a child that escaped its process group, or one the kill raced with at start-up); the outcome is known
 * by then, and the caller kills such leftovers with the run's cgroup or uid once this resolves.
 */
const stoppedPipesGraceMs = 500;

function spawnChild(spec: ProcessSpec): ChildProcessWithoutNullStreams {
  // The first three descriptors are pipes, so the streams exist whatever extra fds follow.
  return spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ["pipe", "pipe", "pipe", ...(spec.fds ?? [])],
    detached: spec.killGroup,
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
    ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
  }) as ChildProcessWithoutNullStreams;
}

function killChild(child: ChildProcessWithoutNullStreams, spec: ProcessSpec): void {
  try {
    if (spec.killGroup && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    else child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Collects stdout as field parts up to the cap (past it, drops what it has and calls `overflow`) and the tail of
 * stderr.
 */
function collectOutput(
  child: ChildProcessWithoutNullStreams,
  maxStdoutBytes: number,
  overflow: () => void,
): { stdout(): StdoutParts; stderr(): string; stopped(): void } {
  let stdout = createFieldParts(undefined, maxStdoutBytes);
  let stdoutBytes = 0;
  let stderr = Buffer.alloc(0);
  let stopped = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (stopped) return;
    stdoutBytes += chunk.length;
    if (stdoutBytes > maxStdoutBytes) {
      // Drop what we have right away: the cap bounds our memory, not only the answer.
      stdout = createFieldParts(undefined, 0);
      overflow();
      child.stdout.destroy();
      return;
    }
    stdout.push(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = Buffer.concat([stderr, chunk]);
    if (stderr.length > stderrTailBytes) stderr = stderr.subarray(stderr.length - stderrTailBytes);
  });
  return {
    stdout: () => stdout.end(),
    stderr: () => stderr.toString("utf8"),
    stopped: () => {
      stopped = true;
    },
  };
}

function writeStdin(child: ChildProcessWithoutNullStreams, stdin: ProcessLimits["stdin"]): void {
  // A plugin may exit without reading its request; EPIPE is not our failure, its exit status tells.
  child.stdin.on("error", () => {});
  if (stdin instanceof Uint8Array) child.stdin.end(stdin);
  else {
    for (const part of stdin) child.stdin.write(part);
    child.stdin.end();
  }
}

export function runProcess(spec: ProcessSpec, limits: ProcessLimits): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    if (limits.signal?.aborted) {
      resolve({ kind: "aborted", reason: limits.signal.reason });
      return;
    }
    const child = spawnChild(spec);
    let stopped: ProcessOutcome | undefined;
    let settled = false;
    const finish = (outcome: ProcessOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const closePipesSoon = () => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, stoppedPipesGraceMs).unref();
    };
    // Stop once: the first reason wins, the result is reported when the process is really gone.
    const stop = (outcome: ProcessOutcome) => {
      if (stopped) return;
      stopped = outcome;
      output.stopped();
      killChild(child, spec);
      if (exited()) closePipesSoon();
    };
    const output = collectOutput(child, limits.maxStdoutBytes, () =>
      stop({ kind: "output-limit", stderr: output.stderr() }),
    );
    const onAbort = () => stop({ kind: "aborted", reason: limits.signal?.reason });
    const timer = setTimeout(() => stop({ kind: "timeout", stderr: output.stderr() }), limits.timeoutMs);
    limits.signal?.addEventListener("abort", onAbort, { once: true });
    writeStdin(child, limits.stdin);
    child.on("error", (error) => finish({ kind: "spawn-error", error }));
    child.on("exit", () => {
      if (stopped) closePipesSoon();
    });
    child.on("close", (code, signal) => {
      if (spec.killGroup) killChild(child, spec);
      if (!stopped) {
        finish({ kind: "exited", code, signal, stdout: output.stdout(), stderr: output.stderr() });
        return;
      }
      // Report the stderr seen until the kill, which is more than when the timer fired.
      finish(
        stopped.kind === "timeout" || stopped.kind === "output-limit"
          ? { kind: stopped.kind, stderr: output.stderr() }
          : stopped,
      );
    });
  });
}
