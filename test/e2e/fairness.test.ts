// e2e: exclusive — counts the plugin slots each template owner holds
// One owner's slow generations cannot starve another owner's cold generation (docs/serving.md, *Plugin slots*).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { copyModule } from "./support/modules.js";
import { childCommandLines } from "./support/processes.js";
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

  const fetchOk = async (url: string) => {
    const res = await fetch(url);
    const body = await res.arrayBuffer();
    assert.equal(res.status, 200, Buffer.from(body).toString());
  };
  const url = (owner: string, module: string) =>
    `${server.url}/v1/${owner}/gen/v1/demo/${module}/main.tar.gz`;
  /** Runs of the slow plugin going now: each is a child of the server (its sandbox). */
  const slowRuns = async () =>
    (await childCommandLines(server.child.pid ?? 0)).filter((cmd) => cmd.includes("slow.mjs")).length;

  it("while one owner's slow generations hold every slot it may take, another's cold one runs and finishes first", async () => {
    // A first cold run warms what is shared (the template and plugin lookups).
    await fetchOk(url("quiet", "m-a"));
    const finished: string[] = [];
    const busy = ["m-a", "m-b", "m-c", "m-d"].map(async (m) => {
      await fetchOk(url("busy", m));
      finished.push(`busy ${m}`);
    });
    // The busy owner may hold three of the four slots: its fourth request queues behind them. Without the cap it
    // would take the fourth slot too, and the quiet owner's request would wait for a busy run (5 s) to end.
    let going = 0;
    for (const deadline = Date.now() + 30_000; going < 3 && Date.now() < deadline; ) {
      going = await slowRuns();
      if (going < 3) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(going, 3, "the busy owner's runs took their three slots");
    await fetchOk(url("quiet", "m-e"));
    finished.push("quiet");
    assert.deepEqual(
      finished,
      ["quiet"],
      "the quiet owner's generation finished while the busy owner's still ran",
    );
    await Promise.all(busy);
    assert.equal(finished.length, 5);
  });
});
