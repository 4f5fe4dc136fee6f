// One owner's slow generations cannot starve another owner's cold generation (docs/serving.md, *Plugin slots*).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { copyModule } from "./support/modules.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const fixture = (name: string) => join(repoRoot, "test/fixtures/plugins", name);

describe("fair scheduling across template owners", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  const template = async (owner: string, parameter: string) => {
    const config = JSON.stringify({ plugins: [{ owner: "fair", name: "slow", parameter }] });
    await cliOk(["template", "create", `${owner}/gen`, "--config", config], env);
    const pins = JSON.stringify({ plugin_versions: [{ owner: "fair", name: "slow", version: "v1.0.0" }] });
    await cliOk(["template", "version", "create", `${owner}/gen`, "--config", pins], env);
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-fair-"));
    // Four generations at once, at most three charged to one payer. Every caller here is anonymous: their shared
    // pool is widened to all four slots, so what is tested is the template owners' caps alone (the anonymous pool
    // is starvation.test.ts's). `fair` is an organization only the admin runs, so its plugin charges nobody.
    server = await startTestServer({
      orgs: ["demo", "fair"],
      dataDir: data.dir,
      env: { PROTODEPOT_PLUGINS_CONCURRENCY: "4", PROTODEPOT_PLUGINS_ANONYMOUS_CONCURRENCY: "4" },
    });
    env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken, XDG_CONFIG_HOME: join(work, "cfg") };
    // Template owners are ordinary users, each their own payer (an admin's templates charge nobody).
    for (const user of ["busy", "quiet"]) await cliOk(["user", "create", user], env);
    for (const name of ["a", "b", "c", "d", "e", "f"]) {
      const dir = await copyModule(join(repoRoot, "examples/money"), join(work, name), `demo/m-${name}`);
      await cliOk(["push", dir], env);
    }
    await cliOk(["plugin", "create", "fair/slow"], env);
    await cliOk(
      ["plugin", "version", "create", "fair/slow", "v1.0.0", "--command", fixture("slow.mjs")],
      env,
    );
    await template("busy", "5000");
    await template("quiet", "200");
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  const timed = async (url: string) => {
    const started = performance.now();
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    assert.equal(res.status, 200, Buffer.from(body).toString());
    return performance.now() - started;
  };
  const url = (owner: string, module: string) =>
    `${server.url}/v1/${owner}/gen/v1/demo/${module}/main.tar.gz`;

  it("while one owner's four slow generations run, another's cold one finishes within twice its unloaded time", async () => {
    // Warm what is shared (the template and plugin lookups) with a first cold run, then measure a second one.
    await timed(url("quiet", "m-a"));
    const unloaded = await timed(url("quiet", "m-b"));
    const busy = ["m-a", "m-b", "m-c", "m-d"].map((m) => timed(url("busy", m)));
    // Let the busy owner's requests arrive and take their slots first.
    await new Promise((r) => setTimeout(r, 500));
    const loaded = await timed(url("quiet", "m-e"));
    assert.ok(
      loaded <= 2 * unloaded,
      `cold generation took ${loaded.toFixed(0)} ms under load, ${unloaded.toFixed(0)} ms unloaded`,
    );
    const busyTimes = await Promise.all(busy);
    assert.ok(
      Math.max(...busyTimes) > 5000,
      "the busy owner's generations were still running when the quiet one finished",
    );
  });
});
