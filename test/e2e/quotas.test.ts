// Per-owner quotas on a real server, through the real CLI, buf's Upload and skopeo: a push past an owner's module,
// daily commit or plugin image quota is refused before anything is stored, an admin's own quota for the owner wins
// over the server's default, and only admins set them. Counts only, no clock.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isDeepStrictEqual, promisify } from "node:util";
import { cliOk, runCli } from "./support/cli.js";
import { type BuiltImage, buildImage, writeLayout } from "./support/oci-image.js";
import { adminToken, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);

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
      imageBytes: { limit: number; source: string; used: number };
      images: { limit: number; source: string; used: number };
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

  /** skopeo copies `image` to `repo:tag` as `user`; resolves to skopeo's exit code and stderr. */
  const skopeoCopy = async (image: BuiltImage, user: string, token: string, repo: string, tag: string) => {
    const layout = join(work, `layout-${repo.replace("/", "-")}-${tag}`);
    await writeLayout(layout, image, tag);
    const dest = `docker://${new URL(server.url).host}/${repo}:${tag}`;
    const args = ["copy", "--dest-tls-verify=false", "--dest-creds", `${user}:${token}`];
    return exec("skopeo", [...args, `oci:${layout}:${tag}`, dest]).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? "" }),
    );
  };

  it("plugin images: an admin's own image quotas for alice refuse skopeo's push, raising them lets it in", async () => {
    // An incompressible layer of 32 KiB: the image is its layer, its config and its manifest.
    const image = await buildImage({
      layers: [[{ name: "usr/bin/protoc-gen-noise", content: randomBytes(32 << 10), mode: 0o755 }]],
      entrypoint: ["/usr/bin/protoc-gen-noise"],
    });
    const imageBytes = [...image.blobs.values()].reduce((n, b) => n + b.length, image.manifest.length);
    const ottoToken = otto.PROTODEPOT_TOKEN ?? "";
    const aliceToken = alice.PROTODEPOT_TOKEN ?? "";
    const before = await quotaOf(alice);
    assert.equal(before.imageBytes.source, "default");
    assert.equal(before.imageBytes.limit, 8192 * 1024 * 1024, "oci.ownerQuotaBytes' default");
    assert.deepEqual(before.images, { limit: 200, source: "default", used: 0 });

    await cliOk(["quota", "set", "alice", "--image-bytes", "100"], admin);
    const refused = await skopeoCopy(image, "alice", aliceToken, "alice/noise", "v1.0.0");
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /owner alice would exceed its image storage quota of 100 bytes \(set for alice by an admin; 0 in use/,
    );
    assert.match(refused.stderr, /protodepot quota set alice --image-bytes N/);
    const kept = await quotaOf(alice);
    assert.deepEqual(kept.imageBytes, { limit: 100, source: "owner", used: 0 }, "nothing of it was kept");
    assert.equal(kept.images.used, 0);

    // Another owner keeps the server's default: the same image goes in.
    assert.equal((await skopeoCopy(image, "otto", ottoToken, "otto/noise", "v1.0.0")).code, 0);

    await cliOk(["quota", "set", "alice", "--image-bytes", String(10 << 20), "--images", "1"], admin);
    const pushed = await skopeoCopy(image, "alice", aliceToken, "alice/noise", "v1.0.0");
    assert.equal(pushed.code, 0, pushed.stderr);
    const listed = (await cliOk(["plugin", "version", "list", "alice/noise"], alice)).stdout;
    assert.match(listed, /v1\.0\.0\s+image sha256:/);
    const after = await quotaOf(alice);
    assert.deepEqual(after.imageBytes, { limit: 10 << 20, source: "owner", used: imageBytes });
    assert.deepEqual(after.images, { limit: 1, source: "owner", used: 1 });
    assert.deepEqual(after.modules.limit, 2, "the other bounds stay as they were");

    // One image is alice's own limit now: a second tag is refused, the same tag again is not.
    const second = await skopeoCopy(image, "alice", aliceToken, "alice/noise", "v1.0.1");
    assert.notEqual(second.code, 0);
    assert.match(
      second.stderr,
      /alice already holds 1 plugin images, its quota \(1, set for alice by an admin\)/,
    );
    assert.equal((await skopeoCopy(image, "alice", aliceToken, "alice/noise", "v1.0.0")).code, 0);

    // Back to the defaults; the table shows the bounds and where they come from.
    await cliOk(["quota", "set", "alice", "--image-bytes", "default", "--images", "default"], admin);
    assert.equal((await skopeoCopy(image, "alice", aliceToken, "alice/noise", "v1.0.1")).code, 0);
    const table = (await cliOk(["quota", "get", "alice"], alice)).stdout;
    assert.match(table, /plugin image bytes\s+\S+ KiB \(\d+\)\s+8192\.0 MiB \(8589934592\)\s+default/);
    assert.match(table, /plugin images\s+2\s+200\s+default/);
    const events = (await cliOk(["audit", "list", "--action", "quota.set", "--json"], admin)).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(JSON.parse(line).after as string) as unknown);
    assert.equal(events.length, 5);
    // Each keeps the bounds left out as they were (alice's own unlimited commits per day).
    assert.ok(
      events.some((e) =>
        isDeepStrictEqual(e, { modules: null, commitsPerDay: 0, imageBytes: 100, images: null }),
      ),
      JSON.stringify(events),
    );
  });
});
