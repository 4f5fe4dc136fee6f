// The README's quick start: first start creates the admin and prints its token once, the demo is ready to fetch.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
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
