// Per-owner quotas on a real server, through the real CLI and buf's Upload: a push past an owner's module or daily
// commit quota is refused before anything is stored, an admin's own quota for the owner wins over the server's
// default, and only admins set them. Counts only, no clock.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { adminToken, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

describe("quotas", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let admin: Record<string, string>;
  let alice: Record<string, string>;
  let otto: Record<string, string>;

  /** A module alice/NAME whose one message has `fields` fields, so each variant is a new commit. */
  const moduleDir = async (name: string, fields: number) => {
    const dir = join(work, `${name}-${fields}`);
    await mkdir(join(dir, `q/${name}`), { recursive: true });
    await writeFile(join(dir, "buf.yaml"), `version: v1\nname: buf.build/alice/${name}\n`);
    const body = Array.from({ length: fields }, (_, i) => `  string f${i} = ${i + 1};`).join("\n");
    await writeFile(
      join(dir, `q/${name}/m.proto`),
      `syntax = "proto3";\npackage q.${name};\nmessage M {\n${body}\n}\n`,
    );
    return dir;
  };
  const commitsOf = async (module: string) =>
    (await cliOk(["commit", "list", module], admin)).stdout.trim().split("\n").length - 1;
  const quotaOf = async (env: Record<string, string>) =>
    JSON.parse((await cliOk(["quota", "get", "alice", "--json"], env)).stdout) as {
      modules: { limit: number; source: string; used: number };
      commitsPerDay: { limit: number; source: string; used: number };
    };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-quotas-"));
    server = await startTestServer({
      dataDir: data.dir,
      env: { PROTODEPOT_QUOTAS_MODULES_PER_OWNER: "2", PROTODEPOT_QUOTAS_COMMITS_PER_OWNER_PER_DAY: "3" },
    });
    admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    for (const user of ["alice", "otto"]) await cliOk(["user", "create", user], admin);
    const tokenOf = async (user: string) =>
      (await cliOk(["token", "create", "--user", user], admin)).stdout.trim();
    alice = { ...admin, PROTODEPOT_TOKEN: await tokenOf("alice") };
    otto = { ...admin, PROTODEPOT_TOKEN: await tokenOf("otto") };
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("refuses a third module under the default of two, by push and by create, storing nothing", async () => {
    await cliOk(["push", await moduleDir("one", 1)], alice);
    await cliOk(["push", await moduleDir("two", 1)], alice);
    const pushed = await runCli(["push", await moduleDir("three", 1)], alice);
    assert.notEqual(pushed.code, 0);
    assert.match(
      pushed.stderr,
      /alice has 2 modules, as many as its quota allows \(2, the server's default, quotas\.modulesPerOwner/,
    );
    const created = await runCli(["module", "create", "alice/four"], alice);
    assert.notEqual(created.code, 0);
    assert.match(created.stderr, /alice has 2 modules/);
    const listed = (await cliOk(["module", "list", "alice"], admin)).stdout;
    assert.doesNotMatch(listed, /three|four/);
    assert.deepEqual((await quotaOf(alice)).modules, { limit: 2, source: "default", used: 2 });
  });

  it("refuses a fourth commit in a day under the default of three, on our push and on buf's Upload", async () => {
    await cliOk(["push", await moduleDir("one", 2)], alice);
    assert.equal((await quotaOf(alice)).commitsPerDay.used, 3);
    const pushed = await runCli(["push", await moduleDir("one", 3)], alice);
    assert.notEqual(pushed.code, 0);
    assert.match(
      pushed.stderr,
      /the modules of alice took 3 commits in the last 24 hours; its quota allows 3/,
    );
    // buf's push, as buf sends it (Connect JSON): the same refusal, as Connect's resource_exhausted (HTTP 429).
    const upload = await fetch(`${server.url}/buf.registry.module.v1.UploadService/Upload`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${alice.PROTODEPOT_TOKEN}` },
      body: JSON.stringify({
        contents: [
          {
            moduleRef: { name: { owner: "alice", module: "two" } },
            files: [
              {
                path: "q/two/m.proto",
                content: Buffer.from('syntax = "proto3";\npackage q.two;\nmessage N {}\n').toString("base64"),
              },
            ],
          },
        ],
      }),
    });
    const text = await upload.text();
    assert.equal(upload.status, 429, text);
    assert.match(text, /"code":"resource_exhausted".*took 3 commits/);
    assert.equal(await commitsOf("alice/one"), 2);
    assert.equal(await commitsOf("alice/two"), 1);
  });

  it("lets an admin's own quota for alice win, 0 meaning unlimited; others may neither set nor read it", async () => {
    const refused = await runCli(["quota", "set", "alice", "--modules", "100"], alice);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /only admins set quotas/);
    const hidden = await runCli(["quota", "get", "alice"], otto);
    assert.notEqual(hidden.code, 0);
    assert.match(hidden.stderr, /may not read the quotas of alice/);

    await cliOk(["quota", "set", "alice", "--modules", "3", "--commits-per-day", "0"], admin);
    const quota = await quotaOf(alice);
    assert.deepEqual(quota.modules, { limit: 3, source: "owner", used: 2 });
    assert.deepEqual(quota.commitsPerDay, { limit: 0, source: "owner", used: 3 });
    await cliOk(["push", await moduleDir("three", 1)], alice);
    await cliOk(["push", await moduleDir("one", 3)], alice);
    assert.match((await runCli(["push", await moduleDir("five", 1)], alice)).stderr, /\(3, set by an admin/);

    // Back to the server's default for modules only; the commit quota stays alice's own.
    await cliOk(["quota", "set", "alice", "--modules", "default"], admin);
    const reset = await quotaOf(admin);
    assert.deepEqual(reset.modules, { limit: 2, source: "default", used: 3 });
    assert.deepEqual(reset.commitsPerDay, { limit: 0, source: "owner", used: 5 });
    const events = (await cliOk(["audit", "list", "--action", "quota.set", "--json"], admin)).stdout
      .trim()
      .split("\n");
    assert.equal(events.length, 2);
  });
});
