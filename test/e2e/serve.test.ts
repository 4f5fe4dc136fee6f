// Pre-generation end to end: makes the first download after a push a cache hit, and every cache shows a
// write on the next request, with one worker and with several.
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { counter, pluginRuns } from "./support/metrics.js";
import { adminToken, callApi, makeDataDir, repoRoot, startTestServer } from "./support/server.js";

const stampPlugin = join(repoRoot, "test/fixtures/plugins/stamp.mjs");

/** One GET on a fresh connection, so successive calls reach every worker of a cluster in turn. */
function get(
  url: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers: { connection: "close" } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    })
      .on("error", reject)
      .end();
  });
}

/** The same request `n` times, each on its own connection: every answer must agree. */
async function everyWorker(url: string, n = 6) {
  const answers = [];
  for (let i = 0; i < n; i++) answers.push(await get(url));
  return answers;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function setup(workers: number) {
  const data = await makeDataDir();
  const work = await mkdtemp(join(tmpdir(), "protodepot-serve-"));
  const server = await startTestServer({
    dataDir: data.dir,
    orgs: ["demo", "tests"],
    args: ["--workers", String(workers)],
  });
  const env = {
    PROTODEPOT_REMOTE: server.url,
    PROTODEPOT_TOKEN: adminToken,
    XDG_CONFIG_HOME: join(work, "config"),
  };
  let round = 0;
  /** Pushes examples/money with a comment naming the round, so each push is a new commit; returns its id. */
  const pushMoney = async () => {
    const dir = join(work, `money-${++round}`);
    await cp(join(repoRoot, "examples/money"), dir, { recursive: true });
    const proto = join(dir, "demo/money/v1/money.proto");
    await writeFile(proto, `${await readFile(proto, "utf8")}\n// round ${round}\n`);
    const { stdout } = await cliOk(["push", dir], env);
    const id = /commit ([0-9a-f]{32})/.exec(stdout)?.[1];
    assert.ok(id, stdout);
    return id;
  };
  return {
    server,
    env,
    pushMoney,
    async close() {
      await server.stop();
      await data.remove();
      await rm(work, { recursive: true, force: true });
    },
  };
}

describe("pre-generation", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup(1);
  });
  after(() => s.close());

  it("serves the archive and the npm tarball of a fresh push without running a plugin", async () => {
    await s.pushMoney();
    const update = await cliOk(["module", "update", "demo/money", "--pregenerate", "protodepot/es"], s.env);
    assert.match(update.stdout, /pre-generates protodepot\/es after each push/);

    const before = await pluginRuns(s.server);
    const commit = await s.pushMoney();
    // protoc-gen-es declares an npm runtime library: the archive and the npm package are generated, once each.
    await waitFor("two background plugin runs", async () => (await pluginRuns(s.server)) === before + 2);
    const settled = await pluginRuns(s.server);

    const archive = await get(`${s.server.url}/v1/protodepot/es/latest/demo/money/${commit}.tar.gz`);
    assert.equal(archive.status, 200);
    assert.equal(archive.headers["x-protodepot-version"], "v1.1.2");
    const tarball = await get(
      `${s.server.url}/npm/@protodepot/protodepot_es_demo_money/-/protodepot_es_demo_money-1.1.2.tgz`,
    );
    assert.equal(tarball.status, 200);
    assert.equal(await pluginRuns(s.server), settled, "both were served from the cache");
  });

  it("an empty list unsubscribes: the next push generates nothing", async () => {
    const update = await cliOk(["module", "update", "demo/money", "--pregenerate", ""], s.env);
    assert.match(update.stdout, /pre-generates nothing/);
    const before = await pluginRuns(s.server);
    await s.pushMoney();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await pluginRuns(s.server), before);
  });

  it("an organization's list pre-generates for every module of it, and only its owners may set it", async () => {
    const set = await cliOk(["org", "update", "demo", "--pregenerate", "protodepot/es"], s.env);
    assert.match(set.stdout, /every module of demo pre-generates protodepot\/es after each push/);
    const before = await pluginRuns(s.server);
    const commit = await s.pushMoney();
    await waitFor("two background plugin runs", async () => (await pluginRuns(s.server)) === before + 2);
    const settled = await pluginRuns(s.server);
    const archive = await get(`${s.server.url}/v1/protodepot/es/latest/demo/money/${commit}.tar.gz`);
    assert.equal(archive.status, 200);
    assert.equal(await pluginRuns(s.server), settled, "served from the cache");

    // A template on both lists runs once.
    await cliOk(["module", "update", "demo/money", "--pregenerate", "protodepot/es"], s.env);
    const both = await pluginRuns(s.server);
    await s.pushMoney();
    await waitFor("two background plugin runs", async () => (await pluginRuns(s.server)) === both + 2);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await pluginRuns(s.server), both + 2);

    const shown = await cliOk(["org", "update", "demo"], s.env);
    assert.match(shown.stdout, /pre-generates protodepot\/es/);
    await cliOk(["user", "create", "wendy"], s.env);
    const token = /pd_\S+/.exec((await cliOk(["token", "create", "--user", "wendy"], s.env)).stdout)?.[0];
    assert.ok(token);
    await cliOk(["org", "member", "add", "demo", "wendy", "--role", "writer"], s.env);
    const denied = await runCli(["org", "update", "demo", "--pregenerate", ""], {
      ...s.env,
      PROTODEPOT_TOKEN: token,
    });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /may not change the pre-generated templates of demo: that needs an owner/);
    const cleared = await cliOk(["org", "update", "demo", "--pregenerate", ""], s.env);
    assert.match(cleared.stdout, /pre-generate only their own lists/);
  });
});

for (const workers of [1, 2]) {
  describe(`every cache shows a write on the next request (${workers} worker${workers > 1 ? "s" : ""})`, () => {
    let s: Awaited<ReturnType<typeof setup>>;
    let first: string;
    before(async () => {
      s = await setup(workers);
      first = await s.pushMoney();
      await cliOk(["plugin", "create", "tests/stamp"], s.env);
      for (const v of ["1", "2"]) {
        await cliOk(
          ["plugin", "version", "create", "tests/stamp", `v${v}.0.0`, "--command", `${stampPlugin} ${v}`],
          s.env,
        );
      }
      await cliOk(
        ["template", "create", "tests/stamp", "--config", '{"plugins":[{"owner":"tests","name":"stamp"}]}'],
        s.env,
      );
      await cliOk(
        [
          "template",
          "version",
          "create",
          "tests/stamp",
          "--config",
          "plugin_versions: [{owner: tests, name: stamp, version: v1.0.0}]",
        ],
        s.env,
      );
    });
    after(() => s.close());

    const archive = () => `${s.server.url}/v1/tests/stamp/latest/demo/money/main.tar.gz`;
    const commits = async () => (await everyWorker(archive())).map((a) => a.headers["x-protodepot-commit"]);

    it("pushing a new head", async () => {
      const kept = await counter(s.server, "protodepot_kept_answers_total");
      assert.deepEqual(new Set(await commits()), new Set([first]));
      // The first answer is generated, the second kept, the rest come from memory: so every write below is
      // checked against answers kept before routing too, not only against the caches behind them.
      if (workers === 1)
        assert.ok(
          (await counter(s.server, "protodepot_kept_answers_total")) >= kept + 4,
          "repeats were kept",
        );
      const second = await s.pushMoney();
      assert.deepEqual(new Set(await commits()), new Set([second]));
    });

    it("moving a label", async () => {
      await cliOk(["label", "move", "demo/money", "main", first], s.env);
      assert.deepEqual(new Set(await commits()), new Set([first]));
    });

    it("creating a template version", async () => {
      const versions = async () =>
        (await everyWorker(archive())).map((a) => a.headers["x-protodepot-version"]);
      assert.deepEqual(new Set(await versions()), new Set(["v1.1.1"]));
      await cliOk(
        [
          "template",
          "version",
          "create",
          "tests/stamp",
          "--config",
          "plugin_versions: [{owner: tests, name: stamp, version: v2.0.0}]",
        ],
        s.env,
      );
      assert.deepEqual(new Set(await versions()), new Set(["v1.2.1"]));
    });

    it("changing visibility", async () => {
      const statuses = async () => (await everyWorker(archive())).map((a) => a.status);
      assert.deepEqual(new Set(await statuses()), new Set([200]));
      await cliOk(["module", "update", "demo/money", "--visibility", "private"], s.env);
      // Anonymous callers now get the answer for a module that does not exist, from every worker.
      assert.deepEqual(new Set(await statuses()), new Set([404]));
      await cliOk(["module", "update", "demo/money", "--visibility", "public"], s.env);
      assert.deepEqual(new Set(await statuses()), new Set([200]));
    });
  });
}

describe("answers kept in memory never outlive the caller's access", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  const tarball = () =>
    `${s.server.url}/npm/@protodepot/protodepot_es_demo_money/-/protodepot_es_demo_money-1.1.1.tgz`;
  const ok = async (method: string, body: unknown) => {
    const res = await callApi(s.server.url, method, body, adminToken);
    assert.equal(res.status, 200, `${method}: ${await res.clone().text()}`);
    return (await res.json()) as Record<string, string>;
  };
  /** Status of the same download repeated, so every answer after the first two comes from memory. */
  const statuses = async (token: string | undefined, n = 4) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(tarball(), token ? { headers: { authorization: `Bearer ${token}` } } : {});
      await res.arrayBuffer();
      out.push(res.status);
    }
    return out;
  };

  before(async () => {
    s = await setup(1);
    await s.pushMoney();
    await cliOk(["module", "update", "demo/money", "--visibility", "private"], s.env);
    await ok("UserService/CreateUser", { name: "mallory" });
  });
  after(() => s.close());

  it("a revoked token is refused on its next request, though its answer was kept", async () => {
    const { token, tokenId } = await ok("UserService/CreateToken", { user: "admin", note: "revoked later" });
    const kept = await counter(s.server, "protodepot_kept_answers_total");
    assert.deepEqual(await statuses(token), [200, 200, 200, 200]);
    assert.ok((await counter(s.server, "protodepot_kept_answers_total")) >= kept + 2, "repeats were kept");
    await ok("UserService/RevokeToken", { tokenId });
    assert.deepEqual(await statuses(token, 2), [401, 401]);
  });

  it("a private answer kept for one caller is never given to another", async () => {
    const { token } = await ok("UserService/CreateToken", { user: "mallory" });
    assert.deepEqual(await statuses(adminToken), [200, 200, 200, 200]);
    assert.deepEqual(await statuses(token), [404, 404, 404, 404]);
    assert.deepEqual(await statuses(undefined), [404, 404, 404, 404]);
  });

  it("an expired token is refused on its first request past the expiry", async () => {
    const expireTime = new Date(Date.now() + 1500).toISOString();
    const { token } = await ok("UserService/CreateToken", { user: "admin", expireTime });
    assert.deepEqual(await statuses(token), [200, 200, 200, 200]);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expireTime) - Date.now() + 50)));
    assert.deepEqual(await statuses(token, 2), [401, 401]);
  });
});
