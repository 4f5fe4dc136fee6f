import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runProcess } from "./run-process.js";

// A run whose process is gone must end even when something it started still holds its stdout: otherwise the run
// never settles, and the plugin slot it holds is never given back.
describe("runProcess with a leftover holding the pipes", () => {
  const dir = mkdtempSync(join(tmpdir(), "protodepot-run-process-"));
  const pidFiles = [join(dir, "a.pid"), join(dir, "b.pid")];
  after(() => {
    for (const file of pidFiles) {
      try {
        process.kill(Number(readFileSync(file, "utf8")), "SIGKILL");
      } catch {
        // Not started, or already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // setsid puts the sleeper outside the run's process group, so the group kill misses it, as a child that
  // outlived a killed bwrap would be missed.
  const leaveSleeper = (pidFile: string) => `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' & `;
  const spec = (script: string) => ({
    file: "/bin/sh",
    args: ["-c", script],
    env: { PATH: "/usr/bin:/bin" },
    cwd: "/tmp",
    killGroup: true,
  });

  it("a process that exits and leaves a sleeper on its stdout ends at the deadline", {
    timeout: 15_000,
  }, async () => {
    const outcome = await runProcess(spec(`${leaveSleeper(pidFiles[0] as string)} exit 0`), {
      stdin: new Uint8Array(0),
      timeoutMs: 300,
      maxStdoutBytes: 1024,
    });
    assert.equal(outcome.kind, "timeout");
  });

  it("a cancelled run whose leftover holds its stdout is reported cancelled", {
    timeout: 15_000,
  }, async () => {
    const ac = new AbortController();
    const running = runProcess(spec(`${leaveSleeper(pidFiles[1] as string)} sleep 30`), {
      stdin: new Uint8Array(0),
      timeoutMs: 60_000,
      maxStdoutBytes: 1024,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(new Error("client went away")), 200);
    const outcome = await running;
    assert.equal(outcome.kind, "aborted");
  });
});
