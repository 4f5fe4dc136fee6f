// The README's quick start: first start creates the admin and prints its token once, the demo is ready to fetch.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { runCli } from "./support/cli.js";
import { makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);

describe("quick start (serve --demo)", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;

  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({
      dataDir: data.dir,
      args: ["--demo"],
      env: { PROTODEPOT_ADMIN_TOKEN: "" },
    });
  });
  after(async () => {
    await server.stop();
    await data.remove();
  });

  it("prints the admin token once, and it works", async () => {
    const token = /admin token \(shown once, store it\): (pd_\S+)/.exec(server.output())?.[1];
    assert.ok(token, server.output());
    const who = await runCli(["token", "create", "--note", "ci", "--remote", server.url, "--token", token]);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^pd_/);
    await server.stop();
    server = await startTestServer({
      dataDir: data.dir,
      args: ["--demo"],
      env: { PROTODEPOT_ADMIN_TOKEN: "" },
    });
    assert.doesNotMatch(server.output(), /admin token/);
  });

  it("never loses the first token: printed before listening, kept in a 0600 file until revoked", async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, "127.0.0.1", done));
    const port = (busy.address() as AddressInfo).port;
    const fresh = await makeDataDir();
    try {
      const failed = await runCli(["serve", "--data", fresh.dir, "--port", String(port)], {
        PROTODEPOT_ADMIN_TOKEN: "",
        PROTODEPOT_LOG_LEVEL: "warn",
      });
      assert.notEqual(failed.code, 0);
      const token = /admin token \(shown once, store it\): (pd_\S+)/.exec(failed.stdout)?.[1];
      assert.ok(token, failed.stdout + failed.stderr);
      const file = join(fresh.dir, "initial-admin-token");
      assert.equal((await readFile(file, "utf8")).trim(), token);
      assert.equal((await stat(file)).mode & 0o777, 0o600);

      const started = await startTestServer({ dataDir: fresh.dir, env: { PROTODEPOT_ADMIN_TOKEN: "" } });
      try {
        const list = await runCli(["token", "list", "--remote", started.url, "--token", token]);
        assert.equal(list.code, 0, list.stderr);
        const id = /^([0-9a-f]{32})\s+first start/m.exec(list.stdout)?.[1];
        assert.ok(id, list.stdout);
        const revoked = await runCli(["token", "revoke", id, "--remote", started.url, "--token", token]);
        assert.equal(revoked.code, 0, revoked.stderr);
        const after = await runCli(["module", "list", "--remote", started.url, "--token", token]);
        assert.equal(after.code, 1);
        assert.match(after.stderr, /revoked/);
      } finally {
        await started.stop();
      }
      // The next start sees the kept token revoked and removes the file.
      const again = await startTestServer({ dataDir: fresh.dir, env: { PROTODEPOT_ADMIN_TOKEN: "" } });
      await again.stop();
      await assert.rejects(stat(file), /ENOENT/);
    } finally {
      busy.close();
      await fresh.remove();
    }
  });

  it("has the demo modules and serves generated code for them", async () => {
    const sources = await exec("sh", [
      "-c",
      `curl -fsS ${server.url}/demo/payments/archive/main.tar.gz | tar tz`,
    ]);
    assert.deepEqual(sources.stdout.trim().split("\n").sort(), [
      "README.md",
      "buf.yaml",
      "demo/payments/v1/payments.proto",
    ]);
    const generated = await exec("sh", [
      "-c",
      `curl -fsS ${server.url}/v1/protodepot/es/latest/demo/payments/main.tar.gz | tar tz`,
    ]);
    assert.equal(generated.stdout.trim(), "demo/payments/v1/payments_pb.ts");
  });
});
