// Rate limits on a real server: a client over its limit gets 429 with Retry-After and RateLimit headers, on every
// protocol alike; another client, a token holder and /healthz are unaffected. Counts only, no clock.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, callApi, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

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
