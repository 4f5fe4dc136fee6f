// e2e: exclusive — times /healthz and bounds buf's memory × compile.concurrency during huge compilations
// Hostile pushes against the real server: a 27 MB module whose compilation would take gigabytes is refused or
// compiled within compile.memoryBytes (measured from outside: the buf processes' peak RSS and their cgroups), while
// /healthz keeps answering; three at once stay within the limit × compile.concurrency; deeply nested messages are
// a 400 naming the file.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, setPriority } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openRemote } from "../../src/cli/client.js";
import { UserService } from "../../src/gen/protodepot/v1/user_pb.js";
import { type CliResult, runCli } from "./support/cli.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";
import type { WatchReport } from "./support/watch-server.js";

const mib = 2 ** 20;
// Small enough that buf meets it within a second or two of parsing; the module would need gigabytes.
const memoryBytes = 160 * mib;
const concurrency = 2;
const users = ["alice", "bob", "carol"];
// Both measurements may read above the limit by up to a batch of 64 pages per CPU without the limit failing: the
// kernel charges a cgroup in per-CPU batches and may pass its limit by one batch per CPU before reclaiming or
// killing (seen: 296 KiB over on 2 CPUs), and a process's RSS is kept in per-CPU counters whose /proc reading is
// approximate (seen: buf's RssAnon 148 KiB over, once in four CI runs). A broken limit shows as gigabytes.
const slack = 64 * 4096 * availableParallelism();

/** 7 files of `message M%d { string a = 1; M%d b = 2; repeated int32 c = 3; }`, ~3.9 MB each (under maxFileBytes). */
async function writeHostileModule(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "buf.yaml"), `version: v1\nname: buf.build/${name}\n`);
  const perFile = 58_000;
  for (let f = 0; f < 7; f++) {
    const lines = [`syntax = "proto3";`, `package h.f${f};`];
    for (let i = 0; i < perFile; i++) {
      lines.push(
        `message M${i} { string a = 1; M${i + 1 < perFile ? i + 1 : i} b = 2; repeated int32 c = 3; }`,
      );
    }
    await writeFile(join(dir, `f${f}.proto`), `${lines.join("\n")}\n`);
  }
}

/**
 * Raises every thread of a process above the machine's other work (root only; a no-op otherwise). The figures are
 * about this server against its own buf runs (which run at a niceness 10 below the server's), not against
 * whatever else a shared test machine runs; a dedicated CI runner needs none of this.
 */
function prioritize(pid: number | undefined) {
  if (pid === undefined || process.getuid?.() !== 0) return;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), -20);
    } catch {
      // The thread is gone.
    }
  }
}

/** Starts a watcher process (support/watch-server.ts); `stop()` ends it and returns what it saw. */
function watcher(
  mode: "healthz" | "memory",
  server: TestServer,
): { pid: number | undefined; stop(): Promise<WatchReport> } {
  const pid = server.child.pid;
  assert.ok(pid);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "test/e2e/support/watch-server.ts"), mode, String(pid), server.url],
    { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    pid: child.pid,
    async stop() {
      child.stdin.end();
      await exited;
      return JSON.parse(out) as WatchReport;
    },
  };
}

/** Runs `work` watched from outside: the memory of its buf runs, and /healthz meanwhile. */
async function watched<T>(
  server: TestServer,
  work: () => Promise<T>,
): Promise<{ result: T; seen: WatchReport }> {
  await eventLoopLag(server);
  const health = watcher("healthz", server);
  const memory = watcher("memory", server);
  // The watchers' start (tsx) and their first answers are the warm-up, before the push begins.
  await new Promise((r) => setTimeout(r, 1_500));
  for (const w of [health, memory]) prioritize(w.pid);
  const result = await work();
  const [h, m] = await Promise.all([health.stop(), memory.stop()]);
  return { result, seen: { ...m, healthz: h.healthz, errors: h.errors } };
}

/** The push either compiled or was refused naming a compile limit; anything else (a 500, a crash) fails. */
function assertCompiledOrRefused(res: CliResult) {
  if (res.code === 0) return;
  assert.match(
    res.stderr,
    /compile memory limit of 160 MiB \(compile\.memoryBytes\)|compile time limit of \d+ ms \(compile\.timeoutMs\)/,
    res.stderr,
  );
}

/** /healthz answers after the watcher's warm-up: every one under 100 ms, and enough of them to mean something. */
function assertHealthy(seen: WatchReport) {
  const answers = seen.healthz.slice(5);
  assert.ok(answers.length >= 10, `only ${answers.length} /healthz samples`);
  const worst = Math.max(...answers.map((ms) => ms ?? Number.POSITIVE_INFINITY));
  assert.ok(worst < 100, `/healthz took up to ${worst.toFixed(1)} ms (${answers.length} samples)`);
}

/** The server's own account of its event loop (prom-client's default metrics), beside what the watcher saw. */
async function eventLoopLag(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  const max = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(await res.text())?.[1];
  return `server event loop lag max since the last look: ${max === undefined ? "?" : (Number(max) * 1000).toFixed(0)} ms`;
}

function figures(seen: WatchReport): string {
  const m = (n: number) => `${(n / mib).toFixed(0)} MiB`;
  const ms = seen.healthz.map((x) => x ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const p99 = ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] ?? 0;
  return (
    `buf anon peak ${m(seen.bufPeakBytes)}, buf VmHWM ${m(seen.bufHwmBytes)}, buf at once ${seen.bufAtOnce}, ` +
    `buf total ${m(seen.bufTotalBytes)}, cgroup peak ${m(seen.groupPeakBytes)}, cgroup total ${m(seen.groupTotalBytes)}, ` +
    `/healthz n=${ms.length} p99 ${p99.toFixed(1)} ms max ${(ms.at(-1) ?? 0).toFixed(1)} ms, ${seen.samples} samples` +
    (seen.errors.length ? `; /healthz errors: ${seen.errors.slice(0, 3).join("; ")}` : "")
  );
}

describe("hostile pushes", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  const tokens = new Map<string, string>();
  // What the watchers saw during the pushes above, judged for /healthz in the last test.
  const watchedPushes: WatchReport[] = [];

  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({
      dataDir: data.dir,
      env: {
        PROTODEPOT_COMPILE_MEMORY_BYTES: String(memoryBytes),
        PROTODEPOT_COMPILE_CONCURRENCY: String(concurrency),
        PROTODEPOT_COMPILE_PER_PUSHER: "1",
        PROTODEPOT_COMPILE_TIMEOUT_MS: "60000",
      },
    });
    prioritize(server.child.pid);
    const admin = (await openRemote({ remote: server.url, token: adminToken }, {})).client(UserService);
    for (const name of users) {
      await admin.createUser({ name });
      tokens.set(name, (await admin.createToken({ user: name })).token);
      await writeHostileModule(join(data.dir, "src", name), `${name}/hostile`);
    }
  });
  after(async () => {
    await server.stop();
    await data.remove();
  });

  const push = (user: string) =>
    runCli(["push", join(data.dir, "src", user)], {
      HOME: join(data.dir, "home"),
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: tokens.get(user) ?? "",
    });

  it("compiles or refuses a 27 MB hostile module within compile.memoryBytes, measured from outside", async (t) => {
    const { result, seen } = await watched(server, () => push("alice"));
    watchedPushes.push(seen); // before the checks below, so the /healthz test judges this push whatever they say
    t.diagnostic(figures(seen));
    t.diagnostic(await eventLoopLag(server));
    assertCompiledOrRefused(result);
    // buf ran and was seen: the figures below are measurements, not zeros.
    assert.ok(seen.bufPeakBytes > 20 * mib, `buf peak ${seen.bufPeakBytes} bytes`);
    assert.ok(seen.bufPeakBytes <= memoryBytes + slack, `buf peaked at ${seen.bufPeakBytes} bytes`);
    assert.ok(seen.groupPeakBytes > 20 * mib, `the compile cgroup peaked at ${seen.groupPeakBytes} bytes`);
    assert.ok(
      seen.groupPeakBytes <= memoryBytes + slack,
      `a compile cgroup peaked at ${seen.groupPeakBytes} bytes`,
    );
  });

  it("keeps three hostile pushes at once within compile.memoryBytes × compile.concurrency", async (t) => {
    const { result, seen } = await watched(server, () => Promise.all(users.map(push)));
    watchedPushes.push(seen);
    t.diagnostic(figures(seen));
    t.diagnostic(await eventLoopLag(server));
    for (const res of result) assertCompiledOrRefused(res);
    assert.ok(seen.bufAtOnce >= 1 && seen.bufAtOnce <= concurrency, `${seen.bufAtOnce} buf runs at once`);
    assert.ok(seen.bufPeakBytes > 20 * mib, `buf peak ${seen.bufPeakBytes} bytes`);
    assert.ok(
      seen.bufTotalBytes <= (memoryBytes + slack) * concurrency,
      `buf runs held ${seen.bufTotalBytes} bytes at once`,
    );
    assert.ok(
      seen.groupTotalBytes <= (memoryBytes + slack) * concurrency,
      `compile cgroups held ${seen.groupTotalBytes} bytes at once`,
    );
  });

  // The acceptance bar is one hostile push. Three at once on a 2-core machine (three 27 MB bodies hashed and packed
  // beside three buf runs) are reported above for the record, not judged: measured 69-307 ms on a shared machine.
  it("answers /healthz within 100 ms while one such push is received and compiled", () => {
    assert.equal(watchedPushes.length, 2, "the two hostile push tests ran");
    const [one] = watchedPushes;
    assert.ok(one);
    assertHealthy(one);
  });

  it("refuses messages nested more than 64 deep with 400 naming the file", async () => {
    let body = "string x = 1;";
    for (let i = 119; i >= 0; i--) body = `message N${i} { ${body} }`;
    const files = [
      { path: "buf.yaml", content: "version: v1\nname: buf.build/alice/deep\n" },
      { path: "deep/v1/ok.proto", content: 'syntax = "proto3";\npackage deep.v1;\nmessage Fine {}\n' },
      { path: "deep/v1/nested.proto", content: `syntax = "proto3";\npackage deep.v1;\n${body}\n` },
    ];
    const res = await callApi(
      server.url,
      "ModuleService/Push",
      { files: files.map((f) => ({ path: f.path, content: Buffer.from(f.content).toString("base64") })) },
      tokens.get("alice"),
    );
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.match(text, /deep\/v1\/nested\.proto nests messages more than 64 deep/);
  });
});
