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

export function runProcess(spec: ProcessSpec, limits: ProcessLimits): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    if (limits.signal?.aborted) {
      resolve({ kind: "aborted", reason: limits.signal.reason });
      return;
    }
    // The first three descriptors are pipes, so the streams exist whatever extra fds follow.
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["pipe", "pipe", "pipe", ...(spec.fds ?? [])],
      detached: spec.killGroup,
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    }) as ChildProcessWithoutNullStreams;
    let stdout = createFieldParts(undefined, limits.maxStdoutBytes);
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let stopped: ProcessOutcome | undefined;
    let settled = false;

    const kill = () => {
      try {
        if (spec.killGroup && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const finish = (outcome: ProcessOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    // Stop once: the first reason wins, the result is reported when the process is really gone.
    const stop = (outcome: ProcessOutcome) => {
      if (stopped) return;
      stopped = outcome;
      kill();
    };
    const stderrText = () => stderr.toString("utf8");
    const onAbort = () => stop({ kind: "aborted", reason: limits.signal?.reason });
    const timer = setTimeout(() => stop({ kind: "timeout", stderr: stderrText() }), limits.timeoutMs);
    limits.signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout.on("data", (chunk: Buffer) => {
      if (stopped) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.maxStdoutBytes) {
        // Drop what we have right away: the cap bounds our memory, not only the answer.
        stdout = createFieldParts(undefined, 0);
        stop({ kind: "output-limit", stderr: stderrText() });
        child.stdout.destroy();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > stderrTailBytes) stderr = stderr.subarray(stderr.length - stderrTailBytes);
    });
    // A plugin may exit without reading its request; EPIPE is not our failure, its exit status tells.
    child.stdin.on("error", () => {});
    if (limits.stdin instanceof Uint8Array) child.stdin.end(limits.stdin);
    else {
      for (const part of limits.stdin) child.stdin.write(part);
      child.stdin.end();
    }

    child.on("error", (error) => finish({ kind: "spawn-error", error }));
    child.on("close", (code, signal) => {
      if (spec.killGroup) kill();
      if (stopped) {
        // Report the stderr seen until the kill, which is more than when the timer fired.
        finish(
          stopped.kind === "timeout" || stopped.kind === "output-limit"
            ? { ...stopped, stderr: stderrText() }
            : stopped,
        );
        return;
      }
      finish({
        kind: "exited",
        code,
        signal,
        stdout: stdout.end(),
        stderr: stderrText(),
      });
    });
  });
}
