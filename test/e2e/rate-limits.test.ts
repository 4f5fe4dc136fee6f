// Rate limits on a real server: a client over its limit gets 429 with Retry-After and RateLimit headers, on every
// protocol alike; another client, a token holder and /healthz are unaffected; cold generations have a limit of
// their own; and two nodes on one PostgreSQL hold one limit together. Counts only, no clock.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, pgVariable, skipWithout } from "../../src/storage/testing/services.js";
import { cliOk } from "./support/cli.js";
import { counter } from "./support/metrics.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

describe("rate limits", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let ann = "";
  let bob = "";

  before(async () => {
    data = await makeDataDir();
    // A window far longer than the test, so no count is reset while it runs.
    server = await startTestServer({
      dataDir: data.dir,
      env: {
        PROTODEPOT_RATE_LIMITS_WINDOW_MS: "3600000",
        PROTODEPOT_RATE_LIMITS_ANONYMOUS: "4",
        PROTODEPOT_RATE_LIMITS_USER: "3",
      },
    });
    for (const name of ["ann", "bob"]) {
      assert.equal((await callApi(server.url, "UserService/CreateUser", { name }, adminToken)).status, 200);
    }
    const token = async (user: string) =>
      (
        (await (await callApi(server.url, "UserService/CreateToken", { user }, adminToken)).json()) as {
          token: string;
        }
      ).token;
    ann = await token("ann");
    bob = await token("bob");
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
  });

  it("refuses an anonymous address past its limit with 429 and Retry-After, on every protocol", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await callApi(server.url, "ServerService/GetServerInfo", {}, undefined);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    const api = await callApi(server.url, "ServerService/GetServerInfo", {}, undefined);
    const goproxy = await fetch(`${server.url}/go/protodepot.local/demo/x/demo/y/@v/list`);
    const npm = await fetch(`${server.url}/npm/@protodepot%2fdemo_x_demo_y`);
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    for (const res of [api, goproxy, npm]) {
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get("retry-after")) > 0);
      assert.equal(res.headers.get("ratelimit-limit"), "4");
      assert.equal(res.headers.get("ratelimit-remaining"), "0");
      assert.match(await res.text(), /rateLimits.anonymous/);
    }
    const health = await fetch(`${server.url}/healthz`);
    assert.notEqual(health.status, 429);
  });

  it("counts each token apart: one over its limit, another unaffected, admins unlimited", async () => {
    const whoami = async (token: string) => {
      const res = await callApi(server.url, "UserService/WhoAmI", {}, token);
      await res.arrayBuffer();
      return res.status;
    };
    const annStatuses = [await whoami(ann), await whoami(ann), await whoami(ann), await whoami(ann)];
    assert.deepEqual(annStatuses, [200, 200, 200, 429]);
    assert.equal(await whoami(bob), 200);
    for (let i = 0; i < 5; i++) assert.equal(await whoami(adminToken), 200);
  });
});

describe("cold generation limits", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let work: string;
  let server: TestServer;
  let ann = "";

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-rate-gen-"));
    server = await startTestServer({
      dataDir: data.dir,
      orgs: ["demo"],
      env: {
        PROTODEPOT_RATE_LIMITS_WINDOW_MS: "3600000",
        PROTODEPOT_RATE_LIMITS_GENERATIONS_USER: "1",
        PROTODEPOT_RATE_LIMITS_ANONYMOUS: "5",
      },
    });
    const env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "c"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
    await cliOk(["push", join(repoRoot, "examples/payments")], env);
    assert.equal(
      (await callApi(server.url, "UserService/CreateUser", { name: "ann" }, adminToken)).status,
      200,
    );
    const res = await callApi(server.url, "UserService/CreateToken", { user: "ann" }, adminToken);
    ann = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("lets a token start one generation per window; generated artifacts still download", async () => {
    const get = async (module: string) => {
      const res = await fetch(`${server.url}/v1/protodepot/es/v1/demo/${module}/main.tar.gz`, {
        headers: { authorization: `Bearer ${ann}` },
      });
      return {
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        text: res.ok ? "" : await res.text(),
      };
    };
    const first = await get("money");
    assert.equal(first.status, 200, first.text);
    const cold = await get("payments");
    assert.equal(cold.status, 429, cold.text);
    assert.ok(Number(cold.retryAfter) > 0);
    assert.match(cold.text, /rateLimits\.generations\.user/);
    assert.equal((await get("money")).status, 200, "a generated artifact is not a generation");
    // The admin is not limited, and once generated, ann downloads it too.
    const byAdmin = await fetch(`${server.url}/v1/protodepot/es/v1/demo/payments/main.tar.gz`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(byAdmin.status, 200);
    await byAdmin.arrayBuffer();
    assert.equal((await get("payments")).status, 200);
  });

  it("counts repeat downloads answered from memory against the caller's limit", async () => {
    const url = `${server.url}/v1/protodepot/es/v1/demo/money/main.tar.gz`;
    const kept = await counter(server, "protodepot_kept_answers_total");
    const answers: [number, string | null][] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(url);
      answers.push([res.status, res.headers.get("ratelimit-remaining")]);
      await res.arrayBuffer();
    }
    assert.deepEqual(answers, [
      [200, "4"],
      [200, "3"],
      [200, "2"],
      [200, "1"],
      [200, "0"],
      [429, "0"],
    ]);
    // Every answer after the first came from memory, and the limit held there too.
    assert.ok((await counter(server, "protodepot_kept_answers_total")) >= kept + 5);
  });
});

describe("rate limits shared by two nodes on postgres", { skip: skipWithout(pgVariable) }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const dirs: Awaited<ReturnType<typeof makeDataDir>>[] = [];
  const nodes: TestServer[] = [];
  const limit = 12;

  before(async () => {
    db = await createTestDatabase();
    const env = {
      PROTODEPOT_STORAGE_META_DRIVER: "postgres",
      PROTODEPOT_STORAGE_META_POSTGRES_URL: db.url,
      PROTODEPOT_RATE_LIMITS_WINDOW_MS: "3600000",
      PROTODEPOT_RATE_LIMITS_ANONYMOUS: String(limit),
    };
    for (const host of ["127.0.0.1", "127.0.0.2"]) {
      const dir = await makeDataDir("protodepot-node-");
      dirs.push(dir);
      nodes.push(await startTestServer({ dataDir: dir.dir, env, args: ["--host", host] }));
    }
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    for (const d of dirs) await d.remove();
    await db?.drop();
  });

  it("admits no more than the limit from one address across both nodes; another address is unaffected", async () => {
    const statuses: number[] = [];
    const ask = async (node: TestServer, from?: string) => {
      const res = await callApi(node.url, "ServerService/GetServerInfo", {}, undefined);
      await res.arrayBuffer();
      if (!from) statuses.push(res.status);
      return res;
    };
    // Both nodes see the caller as 127.0.0.1 (each listens on its own loopback address; the client's is the same).
    const [one, two] = nodes as [TestServer, TestServer];
    await Promise.all(Array.from({ length: 3 * limit }, (_, i) => ask(i % 2 ? two : one)));
    // A limit of 12 with 5 % slack is a batch of 1: every request is added before it is decided, so exact.
    assert.equal(statuses.filter((s) => s === 200).length, limit);
    assert.equal(statuses.filter((s) => s === 429).length, 2 * limit);
    const refused = await ask(two);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.equal(refused.headers.get("ratelimit-remaining"), "0");
    // Another client address (the connection's source set to 127.0.0.3) still gets through.
    const other = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${one.url}/protodepot.v1.ServerService/GetServerInfo`,
        { method: "POST", localAddress: "127.0.0.3", headers: { "content-type": "application/json" } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end("{}");
    });
    assert.equal(other, 200);
  });
});
