// Issue 3: hostile plugins give clear errors through the archive registry, nothing is cached, the server serves on.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { pluginRuns } from "./support/metrics.js";
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
      env: { PROTODEPOT_PLUGINS_TIMEOUT_MS: "3000", PROTODEPOT_PLUGINS_MAX_OUTPUT_BYTES: String(8 << 20) },
    });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
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

  /** Fetches twice: both fail the same way and both run the plugin (a failure is never cached). */
  const expectFailure = async (url: string, status: number, message: RegExp) => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const runs = await pluginRuns(server);
      const res = await fetch(url);
      const body = await res.text();
      assert.equal(res.status, status, body);
      assert.match(body, message);
      assert.equal(await pluginRuns(server), runs + 1, "each attempt runs the plugin: nothing was cached");
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

  it("keeps serving good templates after all that", async () => {
    const res = await fetch(`${server.url}/v1/protodepot/es/v1/demo/money/main.tar.gz`);
    assert.equal(res.status, 200);
    assert.ok((await res.arrayBuffer()).byteLength > 100);
  });
});
