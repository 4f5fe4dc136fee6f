// e2e: exclusive — fork and memory bombs counted by uid in /proc while /healthz must answer
// Plugin limits on a host without usable cgroups: with sandbox.cgroups off, a fork bomb and a memory bomb run by a
// public template are still bounded (counted from outside, by the run's uid in /proc), and the server answers on.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { copyModule } from "./support/modules.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const fixture = (name: string) => join(repoRoot, "test/fixtures/plugins", name);
const mib = 2 ** 20;
const maxProcesses = 32;
const timeoutMs = 8000;
const memoryBytes = 256 * mib;
// A range of this test's own, far from any real user (the server skips uids the host's user database lists).
const uidRange = { first: 1_879_200_000 + (process.pid % 10_000) * 8, count: 4 };

/** Processes whose real uid is in the range, and their resident memory, read from /proc. */
function runProcesses(): { uid: number; rssBytes: number }[] {
  const out: { uid: number; rssBytes: number }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, "latin1");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (uid < uidRange.first || uid >= uidRange.first + uidRange.count) continue;
      out.push({ uid, rssBytes: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024 });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

const runnable = process.getuid?.() === 0;

describe("plugin limits without cgroups (sandbox.cgroups: off)", {
  skip: !runnable && "needs a root server",
}, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-fallback-"));
    server = await startTestServer({
      orgs: ["demo", "hostile"],
      dataDir: data.dir,
      env: {
        PROTODEPOT_SANDBOX_CGROUPS: "off",
        PROTODEPOT_SANDBOX_UID_RANGE_FIRST: String(uidRange.first),
        PROTODEPOT_SANDBOX_UID_RANGE_COUNT: String(uidRange.count),
        // Long enough for the good plugin (node) on a loaded runner; the fork bomb only ends at it.
        PROTODEPOT_PLUGINS_TIMEOUT_MS: String(timeoutMs),
        PROTODEPOT_PLUGINS_MAX_PROCESSES: String(maxProcesses),
        PROTODEPOT_PLUGINS_MEMORY_BYTES: String(memoryBytes),
        PROTODEPOT_PLUGINS_TMP_BYTES: String(64 * mib),
      },
    });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    const copy = await copyModule(join(repoRoot, "examples/money"), join(work, "money"), "demo/money");
    await cliOk(["push", copy], env);
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  /** Plugin hostile/NAME running a fixture, a public template of it; returns the archive URL anyone may fetch. */
  const setup = async (name: string, script: string) => {
    await cliOk(["plugin", "create", `hostile/${name}`], env);
    await cliOk(
      ["plugin", "version", "create", `hostile/${name}`, "v1.0.0", "--command", fixture(script)],
      env,
    );
    await cliOk(
      [
        "template",
        "create",
        `hostile/${name}`,
        "--config",
        JSON.stringify({ plugins: [{ owner: "hostile", name }] }),
      ],
      env,
    );
    const pins = { plugin_versions: [{ owner: "hostile", name, version: "v1.0.0" }] };
    await cliOk(["template", "version", "create", `hostile/${name}`, "--config", JSON.stringify(pins)], env);
    return `${server.url}/v1/hostile/${name}/v1/demo/money/main.tar.gz`;
  };

  /** Fetches `url` anonymously while sampling /proc and /healthz every 50 ms; the health answers must all be 200. */
  const runWatched = async (url: string) => {
    const res = fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));
    let settled = false;
    res.then(
      () => (settled = true),
      () => (settled = true),
    );
    let peakProcesses = 0;
    let peakRss = 0;
    let healthChecks = 0;
    while (!settled) {
      const procs = runProcesses();
      peakProcesses = Math.max(peakProcesses, procs.length);
      peakRss = Math.max(
        peakRss,
        procs.reduce((sum, p) => sum + p.rssBytes, 0),
      );
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200, "the server answers while the plugin runs");
      await health.arrayBuffer();
      healthChecks++;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { ...(await res), peakProcesses, peakRss, healthChecks };
  };

  it("says in /healthz that runs are bounded by rlimits, pushed plugins included", async () => {
    const health = await (await fetch(`${server.url}/healthz`)).json();
    assert.deepEqual(health, { ok: true, sandbox: { limits: "rlimits", pushedPlugins: "bounded" } });
  });

  it("a fork bomb: at most maxProcesses processes of its uid at once, a 504 naming the plugin", async (t) => {
    const url = await setup("forkbomb", "fork-bomb.sh");
    const run = await runWatched(url);
    t.diagnostic(
      `peak processes ${run.peakProcesses} (limit ${maxProcesses}), health checks ${run.healthChecks}`,
    );
    assert.equal(run.status, 504, run.body);
    assert.match(run.body, /^plugin hostile\/forkbomb:v1\.0\.0 did not finish within 8000 ms/);
    assert.ok(run.peakProcesses > maxProcesses / 2, `the bomb ran (${run.peakProcesses} processes seen)`);
    assert.ok(run.peakProcesses <= maxProcesses, `at most ${maxProcesses} at once, saw ${run.peakProcesses}`);
    assert.ok(run.healthChecks > 5, "the server was asked throughout the run");
  });

  it("a memory bomb: its memory stays under memoryBytes, a 500 naming the plugin and why", async (t) => {
    const url = await setup("membomb", "memory-bomb.sh");
    const run = await runWatched(url);
    t.diagnostic(
      `peak resident memory ${Math.round(run.peakRss / mib)} MiB (limit ${memoryBytes / mib} MiB)`,
    );
    assert.equal(run.status, 500, run.body);
    assert.match(run.body, /^plugin hostile\/membomb:v1\.0\.0 exited with code \d+\n[\s\S]*out of memory/);
    assert.ok(run.peakRss > 64 * mib, `the bomb grew (${Math.round(run.peakRss / mib)} MiB seen)`);
    assert.ok(run.peakRss <= memoryBytes, `under 256 MiB, saw ${Math.round(run.peakRss / mib)} MiB`);
  });

  it("leaves no process of the range behind, and keeps generating with a good plugin", async () => {
    for (let i = 0; i < 100 && runProcesses().length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(runProcesses(), []);
    const res = await fetch(`${server.url}/v1/protodepot/es/v1/demo/money/main.tar.gz`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok((await res.arrayBuffer()).byteLength > 100);
  });
});
