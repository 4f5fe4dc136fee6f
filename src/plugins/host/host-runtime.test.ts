import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import { Code, isRegistryError } from "../../core/errors.js";
import type { PluginRuntime } from "../runtime.js";
import { isBwrapAvailable } from "../sandbox/bwrap.js";
import { createSandbox, type SandboxOptions } from "../sandbox/sandbox.js";
import { createHostRuntime } from "./host-runtime.js";

const repo = join(import.meta.dirname, "../../..");
const fixtures = join(repo, "test/fixtures/plugins");
const mib = 2 ** 20;

/** Command lines of this process's children (the plugins' sandboxes) that name `script`. */
async function pluginsRunning(script: string): Promise<string[]> {
  const tasks = await readdir(`/proc/${process.pid}/task`);
  const children = await Promise.all(
    tasks.map((t) => readFile(`/proc/${process.pid}/task/${t}/children`, "utf8").catch(() => "")),
  );
  const lines = await Promise.all(
    children
      .join(" ")
      .split(/\s+/)
      .filter(Boolean)
      .map((pid) => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")),
  );
  return lines.filter((l) => l.includes(script));
}
const limits = {
  timeoutMs: 10_000,
  memoryBytes: 512 * mib,
  tmpBytes: 64 * mib,
  maxProcesses: 256,
  maxOutputBytes: 8 * mib,
  allowUnsandboxed: false,
};
const host = (o: Partial<SandboxOptions> = {}) => createHostRuntime(createSandbox({ ...limits, ...o }));
const request = (parameter = "") =>
  toBinary(CodeGeneratorRequestSchema, create(CodeGeneratorRequestSchema, { parameter }));
/** The plugin's whole stdout, joined from its parts. */
const run = async (rt: PluginRuntime, script: string, parameter = "") =>
  Buffer.concat(
    await rt.run({
      source: { kind: "host", command: [join(fixtures, script)] },
      request: request(parameter),
      label: `test/${script}:v1`,
    }),
  );

/** `message` is matched against what users see: the message, then the detail lines (the stderr tail). */
async function rejectsWith(p: Promise<unknown>, code: Code, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isRegistryError(err), `not a RegistryError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match([err.message, ...(err.fields.details ?? [])].join("\n"), message);
    assert.ok(err.fields.plugin?.startsWith("test/"));
    return true;
  });
}

describe("host runtime in bwrap", {
  skip: !isBwrapAvailable() && !process.env.CI && "bwrap is not installed",
}, () => {
  const rt = host();

  test("a plugin that exits non-zero: Internal with the exit code and the last lines of stderr", async () => {
    await rejectsWith(
      run(rt, "exit-nonzero.mjs"),
      Code.Internal,
      /exited with code 3\n[\s\S]*panic: something broke$/,
    );
    await assert.rejects(run(rt, "exit-nonzero.mjs"), (err: unknown) => {
      assert.ok(isRegistryError(err));
      const details = err.fields.details ?? [];
      assert.match(details.at(-1) ?? "", /panic: something broke/, "the stderr tail is in the details");
      assert.ok(!details.some((l) => l.includes("noise line 0")), "only the tail of stderr is kept");
      assert.ok(!err.message.includes("panic"), "the message does not repeat the details");
      return true;
    });
  });

  test("a plugin that hangs: DeadlineExceeded after the timeout, and it is killed", async () => {
    const short = host({ timeoutMs: 300 });
    await rejectsWith(run(short, "hang.mjs"), Code.DeadlineExceeded, /did not finish within 300 ms/);
    assert.deepEqual(await pluginsRunning("hang.mjs"), [], "the hung plugin is gone");
  });

  test("a plugin that writes 200 MB: Unprocessable as soon as the cap is crossed", async () => {
    const before = process.memoryUsage().rss;
    await rejectsWith(run(rt, "flood.mjs"), Code.Unprocessable, /more than 8388608 bytes/);
    assert.ok(process.memoryUsage().rss - before < 100 * mib, "stdout is not buffered past the cap");
    assert.deepEqual(await pluginsRunning("flood.mjs"), [], "the plugin was stopped, not left writing");
  });

  test("no network: a TCP connection to a loopback port where we listen never arrives", async () => {
    let arrived = 0;
    const server = createServer((s) => {
      arrived++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    assert.ok(address && typeof address === "object");
    try {
      await rejectsWith(
        run(rt, "connect.mjs", String(address.port)),
        Code.Internal,
        /exited with code 7\n[\s\S]*connect failed/,
      );
      assert.equal(arrived, 0);
    } finally {
      server.close();
    }
  });

  test("the plugin runs as nobody with a cleared env, /tmp as cwd, and sees only what it needs, read-only", async () => {
    const out = fromBinary(CodeGeneratorResponseSchema, await run(rt, "probe.mjs"));
    const report = JSON.parse(out.file[0]?.content ?? "{}");
    // bwrap sets PWD for --chdir; nothing of the server's environment gets through.
    assert.deepEqual(Object.keys(report.env).sort(), ["HOME", "NODE_OPTIONS", "PATH", "PWD"]);
    assert.equal(report.env.HOME, "/tmp");
    assert.equal(report.uid, 65534);
    assert.equal(report.cwd, "/tmp");
    assert.deepEqual(report.sees, {
      "/etc/passwd": false,
      "/root": false,
      [join(repo, "src")]: false,
      [join(repo, "node_modules")]: true,
    });
    assert.equal(report.canWriteBesideScript, false);
  });

  test("memory limit: a plugin allocating past memoryBytes fails, one within it runs", async () => {
    const small = host({ memoryBytes: 256 * mib });
    await run(small, "probe.mjs", String(32 * mib));
    await rejectsWith(
      run(small, "probe.mjs", String(1024 * mib)),
      Code.Internal,
      /exited with code|killed by/,
    );
  });

  test("cancellation kills the run", async () => {
    const ac = new AbortController();
    const p = rt.run({
      source: { kind: "host", command: [join(fixtures, "hang.mjs")] },
      request: request(),
      label: "test/hang:v1",
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 100);
    await rejectsWith(p, Code.Unavailable, /cancelled/);
  });

  test("a missing command: FailedPrecondition", async () => {
    await rejectsWith(
      rt.run({
        source: { kind: "host", command: ["/nonexistent/protoc-gen-x"] },
        request: request(),
        label: "test/x:v1",
      }),
      Code.FailedPrecondition,
      /cannot run/,
    );
  });
});

describe("host runtime without bwrap", () => {
  test("refuses with FailedPrecondition unless allowUnsandboxed", async () => {
    const rt = host({ bwrap: false });
    await rejectsWith(run(rt, "probe.mjs"), Code.FailedPrecondition, /bubblewrap .* is not installed/);
  });

  test("with allowUnsandboxed it runs directly with a cleared env", async () => {
    const rt = host({ bwrap: false, allowUnsandboxed: true });
    const out = fromBinary(CodeGeneratorResponseSchema, await run(rt, "probe.mjs"));
    const report = JSON.parse(out.file[0]?.content ?? "{}");
    // The limit-setting shell sets PWD, as bwrap does; nothing of the server's environment gets through.
    assert.deepEqual(Object.keys(report.env).sort(), ["HOME", "NODE_OPTIONS", "PATH", "PWD"]);
  });

  test("a hanging plugin is killed with its process group", async () => {
    const rt = host({ bwrap: false, allowUnsandboxed: true, timeoutMs: 300 });
    await rejectsWith(run(rt, "hang.mjs"), Code.DeadlineExceeded, /did not finish/);
  });
});
