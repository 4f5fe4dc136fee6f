// The runner's isolation and limits, with /bin/sh standing in for buf (the same sandbox, argv and limits).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import { isBwrapAvailable } from "../plugins/sandbox/bwrap.js";
import { createBufRunner } from "./buf-runner.js";

const mib = 2 ** 20;
const sandboxed = isBwrapAvailable();
const runner = createBufRunner({
  buf: { file: "/bin/sh", args: [] },
  memoryBytes: 48 * mib,
  timeoutMs: 5_000,
  maxImageBytes: mib,
});
after(() => runner.close());

const sh = (script: string, stdin?: string) =>
  runner.run({
    pusher: "alice",
    what: "build",
    args: ["-c", script],
    ...(stdin !== undefined ? { stdin: { bytes: new TextEncoder().encode(stdin) } } : {}),
  });

async function refused(promise: Promise<unknown>, code: Code, pattern: RegExp) {
  await assert.rejects(promise, (err) => {
    assert.ok(isRegistryError(err, code), `expected ${code}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("buf runner", { skip: !sandboxed && "bubblewrap is not installed" }, () => {
  it("passes stdin, stdout, the exit code and the beginning of stderr", async () => {
    const out = await sh("cat; echo first >&2; yes error | head -c 100000 >&2; exit 3", "image bytes");
    assert.equal(out.code, 3);
    assert.equal(out.stdout.toString(), "image bytes");
    assert.ok(out.stderr.startsWith("first\nerror\n"), out.stderr.slice(0, 40));
    assert.ok(out.stderr.length < 16_384);
  });

  it("runs as nobody, without network, the host's files or its environment", async () => {
    const out = await sh(
      "id -u; test -e /etc/passwd && echo passwd; test -e /work && echo work; " +
        "grep -c : /proc/net/dev; echo token=$PROTODEPOT_ADMIN_TOKEN; touch /usr/x 2>/dev/null && echo writable; true",
    );
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.toString().trim().split("\n");
    if (process.getuid?.() === 0) assert.equal(lines[0], "65534");
    // Only the loopback device in the run's own network namespace.
    assert.deepEqual(lines.slice(1), ["1", "token="]);
  });

  it("refuses a run past the memory limit with 413 naming compile.memoryBytes", async () => {
    // Pages of the private /tmp count against the run's memory.
    await refused(
      sh("head -c 60000000 /dev/zero > /tmp/fill; sleep 1"),
      Code.ResourceExhausted,
      /more than the compile memory limit of 48 MiB \(compile\.memoryBytes\)/,
    );
  });

  it("refuses output past the cap with 413 naming compile.maxImageBytes", async () => {
    await refused(
      sh("head -c 2000000 /dev/zero"),
      Code.ResourceExhausted,
      /more than the limit of 1 MiB \(compile\.maxImageBytes\)/,
    );
  });

  it("refuses a run past the deadline with 422 naming compile.timeoutMs", async () => {
    const quick = createBufRunner({ buf: { file: "/bin/sh", args: [] }, timeoutMs: 200 });
    try {
      await refused(
        quick.run({ pusher: "alice", what: "build", args: ["-c", "sleep 30"] }),
        Code.Unprocessable,
        /compile time limit of 200 ms \(compile\.timeoutMs\)/,
      );
    } finally {
      quick.close();
    }
  });

  it("refuses to run without bubblewrap unless compile.allowUnsandboxed", async () => {
    const bare = createBufRunner({ buf: { file: "/bin/sh", args: [] }, bwrap: false });
    const allowed = createBufRunner({
      buf: { file: "/bin/sh", args: [] },
      bwrap: false,
      allowUnsandboxed: true,
    });
    try {
      await refused(
        bare.run({ pusher: "alice", what: "build", args: ["-c", "true"] }),
        Code.FailedPrecondition,
        /compile\.allowUnsandboxed/,
      );
      const out = await allowed.run({ pusher: "alice", what: "build", args: ["-c", "echo ok"] });
      assert.equal(out.stdout.toString(), "ok\n");
    } finally {
      bare.close();
      allowed.close();
    }
  });
});
