// The first day: what a new user meets answers with what to do, and the CLI behaves like a native one.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openRemote } from "../../src/cli/client.js";
import { ModuleService } from "../../src/gen/protodepot/v1/module_pb.js";
import { cliOk, runCli } from "./support/cli.js";
import {
  adminToken,
  cliPath,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

describe("the first day", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-first-day-"));
    server = await startTestServer({
      dataDir: data.dir,
      args: ["--demo"],
      env: { PROTODEPOT_SERVER_TRUST_PROXY: "127.0.0.1" },
    });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("prints its version", async () => {
    const res = await cliOk(["--version"]);
    const { version } = (await import("../../package.json", { with: { type: "json" } })).default;
    assert.equal(res.stdout.trim(), version);
  });

  it("exits quietly when its reader closes the pipe (protodepot … | head)", async () => {
    const child = spawn(process.execPath, [cliPath, "--help"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the reader is gone before the CLI writes its first line
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });

  it("says a port is busy in one line with the flag to change it", async () => {
    const port = new URL(server.url).port;
    const res = await runCli(["serve", "--port", port, "--data", join(work, "second")], {
      PROTODEPOT_LOG_LEVEL: "silent",
    });
    assert.equal(res.code, 1);
    assert.equal(
      res.stderr,
      `protodepot: 127.0.0.1:${port} is already in use: pick a free port with --port N (0 = any)\n`,
    );
  });

  it("says an owner does not exist instead of printing an empty table", async () => {
    const res = await runCli(["module", "list", "dem"], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /owner dem does not exist/);
    assert.match((await cliOk(["module", "list", "demo"], env)).stdout, /demo\/payments/);
  });

  it("accepts a unique commit id prefix of 8+ digits wherever a reference goes, and says what a reference is", async () => {
    const commits = (await cliOk(["commit", "list", "demo/money"], env)).stdout;
    const id = /^1\s+([0-9a-f]{32})/m.exec(commits)?.[1] ?? "";
    assert.equal(id.length, 32);
    const created = await cliOk(["label", "create", "demo/money", "beta", id.slice(0, 8)], env);
    assert.match(created.stdout, new RegExp(`label beta -> ${id} \\(seq 1\\)`));
    const res = await fetch(`${server.url}/demo/money/archive/${id.slice(0, 10)}.tar.gz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-protodepot-commit"), id);

    const bad = await runCli(["label", "create", "demo/money", "gamma", "1"], env);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /has no label or commit "1" \(labels: beta, main; a reference is a label, or a commit id: 32 hex digits or a unique prefix of 8 or more\)/,
    );
  });

  it("names a mistyped archive suffix and refuses an empty reference", async () => {
    const typo = await fetch(`${server.url}/v1/protodepot/es/v1/demo/payments/main.include_wkt.tar.gz`);
    assert.equal(typo.status, 400);
    assert.match(await typo.text(), /unknown archive suffix "\.include_wkt\.tar\.gz"/);
    const empty = await fetch(`${server.url}/demo/payments/archive/.tar.gz`);
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /the archive name has no reference/);
  });

  it("says a --config path does not exist instead of a schema error", async () => {
    const res = await runCli(["template", "create", "admin/ts", "--config", "templat.yaml"], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /--config: no file templat\.yaml/);
  });

  it("shows plugin commands' host paths to admins only", async () => {
    const anonymous = await runCli(["plugin", "version", "list", "bufbuild/es"], {
      PROTODEPOT_REMOTE: server.url,
    });
    assert.equal(anonymous.code, 0, anonymous.stderr);
    assert.match(anonymous.stdout, /\bprotoc-gen-es\b/);
    assert.doesNotMatch(anonymous.stdout, /\/node_modules\/|\/bin\//, "no path of the server");
    assert.ok(!anonymous.stdout.includes(repoRoot), "no path of the server");
    const admin = await cliOk(["plugin", "version", "list", "bufbuild/es"], env);
    assert.match(admin.stdout, /\/node_modules\/.*protoc-gen-es/);
  });

  it("pushes a buf.yaml v2 workspace: every module in dependency order, or one by --module", async () => {
    const ws = join(work, "workspace");
    const write = async (path: string, text: string) => {
      await mkdir(dirname(join(ws, path)), { recursive: true });
      await writeFile(join(ws, path), text);
    };
    // app is listed first but imports base: base must be pushed first, and becomes app's dependency.
    await write(
      "buf.yaml",
      "version: v2\nmodules:\n  - path: app\n    name: buf.build/admin/ws-app\n  - path: base\n    name: buf.build/admin/ws-base\n",
    );
    await write(
      "base/ws/base/v1/base.proto",
      'syntax = "proto3";\npackage ws.base.v1;\nmessage Id { string v = 1; }\n',
    );
    await write(
      "app/ws/app/v1/app.proto",
      'syntax = "proto3";\npackage ws.app.v1;\nimport "ws/base/v1/base.proto";\nmessage User { ws.base.v1.Id id = 1; }\n',
    );
    const all = await cliOk(["push", ws], env);
    assert.match(
      all.stdout,
      /^pushed admin\/ws-base commit [0-9a-f]{32} seq 1 label main\npushed admin\/ws-app commit/,
    );
    const app = (await openRemote({ remote: server.url, token: adminToken }, {})).client(ModuleService);
    const head = await app.getCommit({ module: "admin/ws-app", ref: "main" });
    assert.deepEqual(
      head.commit?.deps.map((d) => `${d.owner}/${d.module}`),
      ["admin/ws-base"],
    );
    await write(
      "app/ws/app/v1/app.proto",
      'syntax = "proto3";\npackage ws.app.v1;\nimport "ws/base/v1/base.proto";\nmessage User { ws.base.v1.Id id = 1; string name = 2; }\n',
    );
    const one = await cliOk(["push", ws, "--module", "admin/ws-app"], env);
    assert.match(one.stdout, /^pushed admin\/ws-app commit [0-9a-f]{32} seq 2 label main\n$/);
    const wrong = await runCli(["push", ws, "--module", "admin/ws-nope"], env);
    assert.match(
      wrong.stderr,
      /buf\.yaml declares no module admin\/ws-nope \(modules: admin\/ws-base at base, admin\/ws-app at app\)/,
    );

    await write(
      "buf.yaml",
      "version: v2\nmodules:\n  - path: app\n  - path: base\n    name: buf.build/admin/ws-base\n",
    );
    const single = join(work, "single-v2");
    await mkdir(join(single, "proto/s/v1"), { recursive: true });
    await writeFile(join(single, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n");
    await writeFile(join(single, "proto/s/v1/s.proto"), 'syntax = "proto3";\npackage s.v1;\n');
    const noName = await runCli(["push", single], env);
    assert.match(
      noName.stderr,
      /no name: set `name: HOST\/OWNER\/MODULE` in buf\.yaml \(under its entry in `modules:`/,
    );
    const unnamed = await runCli(["push", ws], env);
    assert.equal(unnamed.code, 1);
    assert.match(
      unnamed.stderr,
      /module at app has no name: set `name: HOST\/OWNER\/MODULE` under its entry in `modules:`/,
    );
  });

  it("serves /metrics to admins only by default", async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.match(await anonymous.text(), /metrics are for admins/);
    const admin = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(admin.status, 200);
    assert.match(await admin.text(), /process_cpu_user_seconds_total/);
  });

  it("builds npm tarball URLs from X-Forwarded-Proto/Host when server.trustProxy trusts the proxy", async () => {
    const name = "@protodepot%2fprotodepot_es_demo_money";
    const proxied = await fetch(`${server.url}/npm/${name}`, {
      headers: { "x-forwarded-proto": "https", "x-forwarded-host": "registry.example.com" },
    });
    assert.equal(proxied.status, 200);
    const packument = (await proxied.json()) as { versions: Record<string, { dist: { tarball: string } }> };
    const tarballs = Object.values(packument.versions).map((v) => v.dist.tarball);
    assert.ok(tarballs.length > 0);
    for (const url of tarballs) assert.match(url, /^https:\/\/registry\.example\.com\/npm\//);
  });
});
