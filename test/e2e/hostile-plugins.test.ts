// e2e: exclusive — times /healthz (under 1 s) during fork and memory bombs
// Issue 3: hostile plugins give clear errors through the archive registry, nothing is cached, the server serves on.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { pluginRuns } from "./support/metrics.js";
import { copyModule } from "./support/modules.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const fixture = (name: string) => join(repoRoot, "test/fixtures/plugins", name);

describe("hostile plugins", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;
  let listener: Server;
  let connections = 0;
  let port = 0;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-hostile-"));
    server = await startTestServer({
      orgs: ["demo", "hostile"],
      dataDir: data.dir,
      env: {
        PROTODEPOT_PLUGINS_TIMEOUT_MS: "3000",
        PROTODEPOT_PLUGINS_MAX_OUTPUT_BYTES: String(8 << 20),
        PROTODEPOT_PLUGINS_MAX_PROCESSES: "32",
        PROTODEPOT_PLUGINS_TMP_BYTES: String(64 << 20),
        // Every request here is anonymous: let them have all four slots, so four runs can fill /tmp at once.
        PROTODEPOT_PLUGINS_ANONYMOUS_CONCURRENCY: "4",
      },
    });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
    const copy = await copyModule(join(repoRoot, "examples/money"), join(work, "copy"), "demo/money-copy");
    await cliOk(["push", copy], env);
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const address = listener.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(async () => {
    listener.close();
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  /** Registers plugin hostile/NAME backed by a fixture, a template of it, and returns the archive URL. */
  const setup = async (name: string, script: string, parameter = "") => {
    await cliOk(["plugin", "create", `hostile/${name}`], env);
    await cliOk(
      ["plugin", "version", "create", `hostile/${name}`, "v1.0.0", "--command", fixture(script)],
      env,
    );
    const config = JSON.stringify({ plugins: [{ owner: "hostile", name, parameter }] });
    await cliOk(["template", "create", `hostile/${name}`, "--config", config], env);
    await cliOk(
      [
        "template",
        "version",
        "create",
        `hostile/${name}`,
        "--config",
        JSON.stringify({ plugin_versions: [{ owner: "hostile", name, version: "v1.0.0" }] }),
      ],
      env,
    );
    return `${server.url}/v1/hostile/${name}/v1/demo/money/main.tar.gz`;
  };

  /**
   * Fetches twice: both fail the same way (no artifact was cached), and only the first runs the plugin: the repeat
   * is answered from the remembered failure (plugins.failureMemoryMs).
   */
  const expectFailure = async (url: string, status: number, message: RegExp) => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const runs = await pluginRuns(server);
      const res = await fetch(url);
      const body = await res.text();
      assert.equal(res.status, status, body);
      assert.match(body, message);
      assert.equal(await pluginRuns(server), runs + (attempt === 0 ? 1 : 0), "the repeat runs nothing");
    }
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  };

  const echo = (response: object) => JSON.stringify(response);

  it("a plugin that exits non-zero: 500 naming the plugin, exit code and its stderr once", async () => {
    const url = await setup("crash", "exit-nonzero.mjs");
    await expectFailure(
      url,
      500,
      /^plugin hostile\/crash:v1\.0\.0 exited with code 3\n(?![\s\S]*panic: something broke[\s\S]*panic: something broke)[\s\S]*panic: something broke/,
    );
  });

  it("a plugin that hangs: 504 after the time limit", async () => {
    const url = await setup("hang", "hang.mjs");
    await expectFailure(url, 504, /hostile\/hang:v1\.0\.0[\s\S]*3000 ?ms/);
  });

  it("a plugin that writes 200 MB: refused at the output cap", async () => {
    const url = await setup("flood", "flood.mjs");
    await expectFailure(url, 422, /hostile\/flood:v1\.0\.0 wrote more than \d+ bytes/);
  });

  it("a plugin that returns ../x or /etc/x: 422 naming the path", async () => {
    const up = await setup("dotdot", "echo.mjs", echo({ file: [{ name: "../x", content: "x" }] }));
    await expectFailure(up, 422, /hostile\/dotdot:v1\.0\.0[\s\S]*\.\.\/x/);
    const abs = await setup("absolute", "echo.mjs", echo({ file: [{ name: "/etc/x", content: "x" }] }));
    await expectFailure(abs, 422, /hostile\/absolute:v1\.0\.0[\s\S]*\/etc\/x/);
  });

  it("a plugin that sets error: 422 with its message", async () => {
    const url = await setup("refuses", "echo.mjs", echo({ error: "option foo is not supported" }));
    await expectFailure(url, 422, /hostile\/refuses:v1\.0\.0[\s\S]*option foo is not supported/);
  });

  it("a plugin that returns invalid bytes: 500 naming the plugin", async () => {
    const url = await setup("garbage", "invalid.mjs");
    await expectFailure(url, 500, /hostile\/garbage:v1\.0\.0/);
  });

  it("a plugin that opens a TCP connection: fails inside the sandbox, nothing arrives", async () => {
    const url = await setup("network", "connect.mjs", String(port));
    await expectFailure(url, 500, /hostile\/network:v1\.0\.0[\s\S]*connect failed/);
    assert.equal(connections, 0, "no connection reached the listener");
  });

  /** Polls /healthz every 50 ms while `work` runs; returns the slowest answer in ms. */
  const slowestHealthz = async (work: Promise<unknown>) => {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    let slowest = 0;
    while (!settled) {
      const started = performance.now();
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
    return slowest;
  };
  const hostProcesses = () => readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
  const shmem = () => Number(/^Shmem:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]) * 1024;

  it("a fork bomb: stopped at the process limit, the host's process count and the server unaffected", async () => {
    const url = await setup("forkbomb", "fork-bomb.sh");
    const before = hostProcesses();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, hostProcesses());
    }, 50);
    const res = fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));
    const slowest = await slowestHealthz(res);
    clearInterval(sampler);
    const { status, body } = await res;
    assert.equal(status, 504, body);
    assert.match(body, /hostile\/forkbomb:v1\.0\.0[\s\S]*limit of 32 processes/);
    // 32 for the bomb, and room for whatever else the machine runs meanwhile; unbounded it forks thousands.
    assert.ok(peak - before < 32 + 40, `host processes grew by ${peak - before}`);
    assert.ok(slowest < 1000, `healthz took ${slowest.toFixed(0)} ms during the bomb`);
  });

  it("four plugins filling /tmp at once: bounded by its size, shared memory freed, the server responsive", async () => {
    const url = await setup("filltmp", "fill-tmp.sh");
    const before = shmem();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, shmem());
    }, 50);
    // Four distinct artifacts of the same template: four runs at once, not one shared flight.
    const urls = [url, url.replace(".tar.gz", ".include_imports.tar.gz")];
    urls.push(...urls.map((u) => u.replace("/demo/money/", "/demo/money-copy/")));
    const all = Promise.all(
      urls.map((u) => fetch(u).then(async (r) => ({ status: r.status, body: await r.text() }))),
    );
    const slowest = await slowestHealthz(all);
    clearInterval(sampler);
    for (const { status, body } of await all) {
      assert.equal(status, 500, body);
      assert.match(body, /exited with code 9[\s\S]*No space left on device/);
    }
    assert.ok(
      peak - before < 4 * (64 << 20) + (128 << 20),
      `shared memory grew by ${(peak - before) >> 20} MiB`,
    );
    assert.ok(shmem() - before < 64 << 20, "the /tmp pages are freed with the runs");
    assert.ok(slowest < 1000, `healthz took ${slowest.toFixed(0)} ms`);
  });

  it("keeps serving good templates after all that", async () => {
    const res = await fetch(`${server.url}/v1/protodepot/es/v1/demo/money/main.tar.gz`);
    assert.equal(res.status, 200);
    assert.ok((await res.arrayBuffer()).byteLength > 100);
  });
});
