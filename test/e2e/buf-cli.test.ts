// The real buf CLI (node_modules) against protodepot over plain http on loopback: login, whoami,
// module create, push, a dependent module by HOST/owner/name, dep update, build with an empty cache; buf's own
// digest check catches a tampered stored file; a private module is invisible without the right token.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { b4Digest } from "../../src/compile/b5-digest.js";
import { UploadService } from "../../src/gen/buf/registry/module/v1/upload_pb.js";
import { openSqlite } from "./support/buf-cli.js";
import { cliOk, runCli } from "./support/cli.js";
import { readTree } from "./support/local-buf.js";
import { pluginRuns } from "./support/metrics.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";
import { makeSelfSignedCert } from "./support/tls.js";

const bufBin = join(repoRoot, "node_modules", ".bin", "buf");
const localEs = join(repoRoot, "node_modules", ".bin", "protoc-gen-es");
const echoPlugin = join(repoRoot, "test", "fixtures", "plugins", "echo.mjs");

const baseProto = `syntax = "proto3";
package base.v1;

message Money {
  string currency = 1;
  int64 units = 2;
}
`;
const appProto = `syntax = "proto3";
package app.v1;

import "base/v1/money.proto";

message Order {
  string id = 1;
  base.v1.Money total = 2;
}
`;

for (const transport of ["http", "https"] as const) {
  describe(`the buf CLI against protodepot (${transport})`, () => {
    let data: Awaited<ReturnType<typeof makeDataDir>>;
    let server: TestServer;
    let host: string;
    let work: string;
    let env: Record<string, string>;
    /** The commit of admin/base that app's buf.lock pins. */
    let lockedBase = "";

    /** Runs buf in `cwd` with the test's private HOME, cache, config and token. */
    function buf(
      cwd: string,
      args: string[],
      opts: { stdin?: string; token?: string } = {},
    ): Promise<{ stdout: string; stderr: string; code: number | null }> {
      const token = opts.token !== undefined ? { BUF_TOKEN: `${opts.token}@${host}` } : {};
      const child = spawn(bufBin, args, { cwd, env: { ...env, ...token }, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(opts.stdin ?? "");
      return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code) => resolve({ stdout, stderr, code }));
      });
    }

    async function bufOk(cwd: string, args: string[], opts: { stdin?: string; token?: string } = {}) {
      const r = await buf(cwd, args, opts);
      assert.equal(r.code, 0, `buf ${args.join(" ")} failed:\n${r.stderr}\n${server.output()}`);
      return r;
    }

    async function listCommits(module: string): Promise<{ id: string }[]> {
      const res = await callApi(server.url, "ModuleService/ListCommits", { module }, adminToken);
      assert.equal(res.status, 200);
      return ((await res.json()) as { commits: { id: string }[] }).commits;
    }

    async function writeModule(dir: string, files: Record<string, string>) {
      for (const [path, content] of Object.entries(files)) {
        await mkdir(join(dir, path, ".."), { recursive: true });
        await writeFile(join(dir, path), content);
      }
    }

    before(async () => {
      data = await makeDataDir();
      work = await mkdtemp(join(tmpdir(), "protodepot-bufcli-"));
      const config = join(work, "config");
      await mkdir(config, { recursive: true });
      let tls: Record<string, string> = {};
      if (transport === "https") {
        // The server's own TLS with a self-signed certificate that buf trusts through SSL_CERT_FILE.
        const cert = await makeSelfSignedCert(work);
        server = await startTestServer({
          dataDir: data.dir,
          args: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
        });
        tls = { SSL_CERT_FILE: cert.certFile };
      } else {
        server = await startTestServer({ dataDir: data.dir });
        // buf speaks https to every registry unless its config turns TLS off.
        await writeFile(join(config, "config.yaml"), "version: v1\ntls:\n  use: false\n");
      }
      assert.equal(new URL(server.url).protocol, `${transport}:`);
      host = new URL(server.url).host;
      env = {
        ...tls,
        PATH: process.env.PATH ?? "",
        HOME: join(work, "home"),
        BUF_CACHE_DIR: join(work, "cache"),
        BUF_CONFIG_DIR: config,
        NETRC: join(work, "home", ".netrc"),
      };
      await mkdir(env.HOME as string, { recursive: true });
    });

    after(async () => {
      await server?.stop();
      await data?.remove();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it("logs in with --token-stdin, writing the netrc, and whoami names the user", async () => {
      const login = await bufOk(work, ["registry", "login", host, "--token-stdin"], { stdin: adminToken });
      assert.match(login.stdout + login.stderr, /admin/);
      const netrc = await readFile(env.NETRC as string, "utf8");
      assert.match(netrc, new RegExp(`machine ${host.replace(".", "\\.")}`));
      assert.match(netrc, /login admin/);
      const whoami = await bufOk(work, ["registry", "whoami", host]);
      assert.match(whoami.stdout, /admin/);
    });

    it("creates, pushes, depends by HOST/owner/name, locks b5 digests and builds with an empty cache", async () => {
      await bufOk(work, ["registry", "module", "create", `${host}/admin/base`, "--visibility", "public"]);
      const again = await buf(work, [
        "registry",
        "module",
        "create",
        `${host}/admin/base`,
        "--visibility",
        "public",
      ]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /exists/);

      const base = join(work, "base");
      await writeModule(base, {
        "buf.yaml": `version: v2\nname: ${host}/admin/base\n`,
        "base/v1/money.proto": baseProto,
        LICENSE: "Apache-2.0\n",
      });
      const pushed = await bufOk(base, ["push"]);
      const baseCommit = pushed.stdout.trim().split("/").pop()?.split(":").pop() ?? "";
      assert.match(baseCommit, /^[0-9a-f]{32}$/);
      lockedBase = baseCommit;

      const app = join(work, "app");
      await writeModule(app, {
        "buf.yaml": `version: v2\nmodules:\n  - path: .\n    name: ${host}/admin/app\ndeps:\n  - ${host}/admin/base\n`,
        "app/v1/order.proto": appProto,
      });
      await bufOk(app, ["dep", "update"]);
      const lock = await readFile(join(app, "buf.lock"), "utf8");
      assert.match(lock, new RegExp(`name: ${host}/admin/base`));
      assert.match(lock, new RegExp(`commit: ${baseCommit}`));
      // The lock holds the b5 digest the server stored for that commit.
      const digest = /digest: b5:([0-9a-f]{128})/.exec(lock)?.[1];
      assert.ok(digest, `buf.lock has no b5 digest:\n${lock}`);
      const db = openSqlite(join(data.dir, "metadata.sqlite"));
      try {
        assert.equal(db.b5Of(baseCommit), digest);
      } finally {
        db.close();
      }

      const created = await bufOk(app, ["push", "--create", "--label", "v1"]);
      const appCommit = created.stdout.trim().split(":").pop() ?? "";
      assert.match(appCommit, /^[0-9a-f]{32}$/);
      // --label alone moves only that label; a new module's default label points at nothing yet.
      const meta = openSqlite(join(data.dir, "metadata.sqlite"));
      try {
        assert.deepEqual(meta.labelsOf("admin", "app"), ["v1"]);
      } finally {
        meta.close();
      }

      await rm(env.BUF_CACHE_DIR as string, { recursive: true, force: true });
      const out = join(work, "image.binpb");
      await bufOk(app, ["build", "-o", out]);
      assert.ok((await readFile(out)).byteLength > 0);
    });

    it("generates with remote: plugins, byte-identical to the same plugin run locally", async () => {
      const app = join(work, "app");
      // The built-in bufbuild/es against protoc-gen-es from node_modules, in one buf generate; strategy all is
      // what a remote plugin gets (one request with every file).
      const plugin = (out: string, opts: string[], extra = "") =>
        `    out: ${out}\n${extra}${opts.length ? `    opt: [${opts.join(", ")}]\n` : ""}`;
      const cases: { name: string; opts: string[]; extra: string }[] = [
        { name: "plain", opts: [], extra: "" },
        { name: "options", opts: ["target=ts", "json_types=true"], extra: "    include_imports: true\n" },
      ];
      for (const c of cases) {
        const out = join(work, `gen-${c.name}`);
        await writeFile(
          join(app, "buf.gen.yaml"),
          "version: v2\nplugins:\n" +
            `  - remote: ${host}/bufbuild/es\n${plugin(join(out, "remote"), c.opts, c.extra)}` +
            `  - local: ${localEs}\n    strategy: all\n${plugin(join(out, "local"), c.opts, c.extra)}`,
        );
        await bufOk(app, ["generate"]);
        const remote = await readTree(join(out, "remote"));
        const local = await readTree(join(out, "local"));
        assert.ok(remote.size > 0, `${c.name}: nothing generated`);
        assert.deepEqual(remote, local, `${c.name}: remote and local output differ`);
        // The options reached the plugin, and include_imports brought the dependency's file.
        if (c.name === "options") {
          assert.ok(
            remote.has("app/v1/order_pb.ts") && remote.has("base/v1/money_pb.ts"),
            [...remote.keys()].join(),
          );
          assert.match(remote.get("app/v1/order_pb.ts") ?? "", /OrderJson/);
        } else {
          assert.deepEqual([...remote.keys()], ["app/v1/order_pb.d.ts", "app/v1/order_pb.js"]);
        }
      }
      await rm(join(app, "buf.gen.yaml"));
    });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("pre-generates a module's subscribed templates after buf push, as after protodepot push", async () => {
        const cli = {
          PROTODEPOT_REMOTE: server.url,
          PROTODEPOT_TOKEN: adminToken,
          XDG_CONFIG_HOME: join(work, "xdg"),
        };
        const dir = join(work, "pre");
        await writeModule(dir, {
          "buf.yaml": `version: v2\nname: ${host}/admin/pre\n`,
          "pre/v1/money.proto": baseProto.replace("package base.v1;", "package pre.v1;"),
        });
        await bufOk(dir, ["push", "--create"]);
        await cliOk(["module", "update", "admin/pre", "--pregenerate", "protodepot/es"], cli);
        await writeFile(
          join(dir, "pre/v1/money.proto"),
          `${baseProto.replace("package base.v1;", "package pre.v1;")}\n// v2\n`,
        );
        const before = await pluginRuns(server);
        const commit = (await bufOk(dir, ["push"])).stdout.trim().split(":").pop() ?? "";
        // protoc-gen-es has an npm runtime library: the archive and the npm package, one run each.
        const deadline = Date.now() + 60_000;
        while ((await pluginRuns(server)) < before + 2) {
          assert.ok(Date.now() < deadline, "no background generation after buf push");
          await new Promise((r) => setTimeout(r, 100));
        }
        const settled = await pluginRuns(server);
        // buf push --create makes a private module: the archive needs the token.
        const archive = await fetch(`${server.url}/v1/protodepot/es/latest/admin/pre/${commit}.tar.gz`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        assert.equal(archive.status, 200);
        await archive.arrayBuffer();
        assert.equal(await pluginRuns(server), settled, "served from the cache");
      });

    if (transport === "http")
      it("locks and builds buf.yaml v1 modules and a buf.work.yaml workspace by b4 digests", async () => {
        const ws = join(work, "v1ws");
        await writeModule(ws, {
          "buf.work.yaml": "version: v1\ndirectories:\n  - app1\n  - extra\n",
          "app1/buf.yaml": `version: v1\nname: ${host}/admin/app1\ndeps:\n  - ${host}/admin/base\n`,
          "app1/app1/v1/a.proto": appProto.replaceAll("app.v1", "app1.v1"),
          "extra/buf.yaml": "version: v1\n",
          "extra/extra/v1/e.proto":
            'syntax = "proto3";\npackage extra.v1;\nimport "app1/v1/a.proto";\nmessage E { app1.v1.Order o = 1; }\n',
        });
        await bufOk(join(ws, "app1"), ["dep", "update"]);
        // A v1 buf.lock: owner/repository/commit and the b4 digest of the files buf downloads.
        const lock = await readFile(join(ws, "app1", "buf.lock"), "utf8");
        assert.match(
          lock,
          new RegExp(`remote: ${host.replace(".", "\\.")}\\n\\s+owner: admin\\n\\s+repository: base`),
        );
        assert.match(lock, new RegExp(`commit: ${lockedBase}`));
        const base = [
          { path: "base/v1/money.proto", content: new TextEncoder().encode(baseProto) },
          { path: "LICENSE", content: new TextEncoder().encode("Apache-2.0\n") },
        ];
        assert.match(lock, new RegExp(`digest: shake256:${b4Digest(base).toString("hex")}\\n`));
        await rm(env.BUF_CACHE_DIR as string, { recursive: true, force: true });
        const out = join(work, "v1ws.binpb");
        await bufOk(ws, ["build", "-o", out]);
        assert.ok((await readFile(out)).byteLength > 0);
        // A v1 module with a registry dependency pushes too (buf pushes a buf.work.yaml's modules one by one).
        const pushed = await bufOk(join(ws, "app1"), ["push", "--create"]);
        assert.match(pushed.stdout, /^[0-9a-f]{32}$/m);
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("runs a pushed plugin image as a remote: plugin, byte-identical to the binary run locally", async () => {
        const protocGenGo = "/usr/bin/protoc-gen-go";
        await cliOk(["plugin", "push", "admin/go-image:v1.0.0", "--binary", protocGenGo], {
          HOME: env.HOME as string,
          PROTODEPOT_REMOTE: server.url,
          PROTODEPOT_TOKEN: adminToken,
        });
        const app = join(work, "app");
        const out = join(work, "gen-go");
        const opts =
          "[paths=source_relative, 'Mapp/v1/order.proto=example.com/app/v1;appv1', " +
          "'Mbase/v1/money.proto=example.com/base/v1;basev1']";
        await writeFile(
          join(app, "buf.gen.yaml"),
          "version: v2\nplugins:\n" +
            `  - remote: ${host}/admin/go-image:v1.0.0\n    out: ${join(out, "remote")}\n    opt: ${opts}\n` +
            `  - local: ${protocGenGo}\n    strategy: all\n    out: ${join(out, "local")}\n    opt: ${opts}\n`,
        );
        try {
          await bufOk(app, ["generate"]);
        } finally {
          await rm(join(app, "buf.gen.yaml"));
        }
        const remote = await readTree(join(out, "remote"));
        assert.deepEqual([...remote.keys()], ["app/v1/order.pb.go"]);
        assert.deepEqual(remote, await readTree(join(out, "local")));
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("pushes a workspace of two modules as one upload, the second depending on the first", async () => {
        const ws = join(work, "ws");
        await writeModule(ws, {
          "buf.yaml": `version: v2\nmodules:\n  - path: a\n    name: ${host}/admin/ws-a\n  - path: b\n    name: ${host}/admin/ws-b\n`,
          "a/wsa/v1/a.proto": 'syntax = "proto3";\npackage wsa.v1;\nmessage A {}\n',
          "b/wsb/v1/b.proto":
            'syntax = "proto3";\npackage wsb.v1;\nimport "wsa/v1/a.proto";\nmessage B { wsa.v1.A a = 1; }\n',
        });
        await bufOk(ws, ["push", "--create"]);
        const a = await listCommits("admin/ws-a");
        const b = await listCommits("admin/ws-b");
        assert.equal(a.length, 1);
        assert.equal(b.length, 1);
        const meta = openSqlite(join(data.dir, "metadata.sqlite"));
        try {
          assert.deepEqual(meta.depsOf(b[0]?.id ?? ""), [a[0]?.id]);
        } finally {
          meta.close();
        }
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("stores no commit of an upload when one of its contents fails", async () => {
        const client = createClient(
          UploadService,
          createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
        );
        const before = (await listCommits("admin/ws-a")).length;
        const headers = { authorization: `Bearer ${adminToken}` };
        const file = (path: string, text: string) => ({ path, content: new TextEncoder().encode(text) });
        await assert.rejects(
          client.upload(
            {
              contents: [
                {
                  moduleRef: { value: { case: "name", value: { owner: "admin", module: "ws-a" } } },
                  files: [
                    file(
                      "wsa/v1/a.proto",
                      'syntax = "proto3";\npackage wsa.v1;\nmessage A { string changed = 1; }\n',
                    ),
                  ],
                },
                {
                  moduleRef: { value: { case: "name", value: { owner: "admin", module: "ws-b" } } },
                  files: [
                    file(
                      "wsb/v1/b.proto",
                      'syntax = "proto3";\npackage wsb.v1;\nmessage B { Missing m = 1; }\n',
                    ),
                  ],
                },
              ],
            },
            { headers },
          ),
          /Missing/,
        );
        assert.equal((await listCommits("admin/ws-a")).length, before);
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("fails buf's digest verification when a stored file was tampered with", async () => {
        const db = openSqlite(join(data.dir, "metadata.sqlite"));
        try {
          // Swap the base commit's sources for another commit's: same module, different bytes, old digest.
          const mod = join(work, "tampered");
          await writeModule(mod, {
            "buf.yaml": `version: v2\nname: ${host}/admin/base\n`,
            "base/v1/money.proto": `${baseProto}\nmessage Extra {}\n`,
          });
          await bufOk(mod, ["push", "--label", "other"]);
          db.swapSources("admin", "base", "main", "other");
        } finally {
          db.close();
        }
        // Commits are immutable, so the server rightly remembers them: restart it (same port, the port is in the
        // module names) so the tampered rows are what it reads.
        await server.stop();
        server = await startTestServer({ dataDir: data.dir, args: ["--port", new URL(server.url).port] });
        await rm(env.BUF_CACHE_DIR as string, { recursive: true, force: true });
        const r = await buf(join(work, "app"), ["build", "-o", join(work, "tampered.binpb")]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Digest verification failed/);
        // The v1 module's b4 pin is checked the same way.
        await rm(env.BUF_CACHE_DIR as string, { recursive: true, force: true });
        const v1 = await buf(join(work, "v1ws", "app1"), ["build", "-o", join(work, "tampered-v1.binpb")]);
        assert.notEqual(v1.code, 0);
        assert.match(v1.stderr, /Digest verification failed/);
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("honours the buf.lock that buf dep update wrote when protodepot push pushes the module", async () => {
        // Move base's default label past the commit app's buf.lock pins.
        const next = join(work, "base-next");
        await writeModule(next, {
          "buf.yaml": `version: v2\nname: ${host}/admin/base\n`,
          "base/v1/money.proto": `${baseProto}\nmessage Rate {}\n`,
        });
        const moved = (await bufOk(next, ["push"])).stdout.trim().split(":").pop() ?? "";
        assert.notEqual(moved, lockedBase);
        const app = join(work, "app");
        assert.match(await readFile(join(app, "buf.lock"), "utf8"), new RegExp(`commit: ${lockedBase}`));
        await cliOk(["push", app, "--label", "from-cli"], {
          HOME: env.HOME as string,
          PROTODEPOT_REMOTE: server.url,
          PROTODEPOT_TOKEN: adminToken,
        });
        const meta = openSqlite(join(data.dir, "metadata.sqlite"));
        try {
          assert.deepEqual(meta.depsOf(meta.headOf("admin", "app", "from-cli") ?? ""), [lockedBase]);
        } finally {
          meta.close();
        }
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("protodepot push names modules from exactly the buf.yaml forms buf accepts", async () => {
        const proto = 'syntax = "proto3";\npackage n.v1;\nmessage N {}\n';
        const forms: { yaml: string; module?: string; refused?: RegExp }[] = [
          { yaml: `version: v2\nname: ${host}/admin/top-name\n`, module: "admin/top-name" },
          { yaml: `version: v2\nname: ${host}/admin/top-empty\nmodules: []\n`, module: "admin/top-empty" },
          { yaml: `version: v2\nmodules:\n  - name: ${host}/admin/no-path\n`, module: "admin/no-path" },
          {
            yaml: `version: v2\nmodules:\n  - path: ./\n    name: ${host}/admin/dot-path\n`,
            module: "admin/dot-path",
          },
          {
            yaml: `version: v2\nname: ${host}/admin/both\nmodules:\n  - path: .\n    name: ${host}/admin/inner\n`,
            refused: /top-level name cannot be used with `modules`/,
          },
          { yaml: "version: v2\nname: admin/no-host\n", refused: /must be HOST\/OWNER\/MODULE/ },
          { yaml: "version: v1\nname: admin/no-host\n", refused: /must be HOST\/OWNER\/MODULE/ },
        ];
        const cliEnv = {
          HOME: env.HOME as string,
          PROTODEPOT_REMOTE: server.url,
          PROTODEPOT_TOKEN: adminToken,
        };
        for (const [i, form] of forms.entries()) {
          const dir = join(work, `naming-${i}`);
          await writeModule(dir, { "buf.yaml": form.yaml, "n/v1/n.proto": proto });
          const built = await buf(dir, ["build", "-o", join(dir, "out.binpb")]);
          const pushed = await runCli(["push", dir], cliEnv);
          if (form.module) {
            assert.equal(built.code, 0, `buf refused ${form.yaml}: ${built.stderr}`);
            assert.equal(pushed.code, 0, `protodepot refused ${form.yaml}: ${pushed.stderr}`);
            assert.match(pushed.stdout, new RegExp(`pushed ${form.module} commit`));
          } else {
            assert.notEqual(built.code, 0, `buf accepted ${form.yaml}`);
            assert.notEqual(pushed.code, 0, `protodepot accepted ${form.yaml}`);
            assert.match(pushed.stderr, form.refused ?? /./);
          }
        }
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("hides a private module from a caller without the right token", async () => {
        const mk = await callApi(server.url, "UserService/CreateUser", { name: "mallory" }, adminToken);
        assert.equal(mk.status, 200);
        const tok = await callApi(server.url, "UserService/CreateToken", { user: "mallory" }, adminToken);
        const mallory = ((await tok.json()) as { token: string }).token;

        await bufOk(work, [
          "registry",
          "module",
          "create",
          `${host}/admin/secret`,
          "--visibility",
          "private",
        ]);
        const secret = join(work, "secret");
        await writeModule(secret, {
          "buf.yaml": `version: v2\nname: ${host}/admin/secret\n`,
          "secret/v1/s.proto": 'syntax = "proto3";\npackage secret.v1;\nmessage S {}\n',
        });
        await bufOk(secret, ["push"]);
        const user = join(work, "user");
        await writeModule(user, {
          "buf.yaml": `version: v2\ndeps:\n  - ${host}/admin/secret\n`,
          "u/v1/u.proto":
            'syntax = "proto3";\npackage u.v1;\nimport "secret/v1/s.proto";\nmessage U { secret.v1.S s = 1; }\n',
        });
        await rm(env.NETRC as string, { force: true });
        const stranger = await buf(user, ["dep", "update"], { token: mallory });
        assert.notEqual(stranger.code, 0);
        assert.match(stranger.stderr, /does not exist|not found/i);
        await bufOk(user, ["dep", "update"], { token: adminToken });
        assert.match(await readFile(join(user, "buf.lock"), "utf8"), /admin\/secret/);
      });

    // Once, over http: the https run repeats only the main scenario.
    if (transport === "http")
      it("hides a private remote plugin without the right token and reports a plugin's error", async () => {
        const ok = async (method: string, body: object) => {
          const res = await callApi(server.url, method, body, adminToken);
          const text = await res.text();
          assert.equal(res.status, 200, `${method}: ${text}`);
          return JSON.parse(text) as Record<string, unknown>;
        };
        await ok("UserService/CreateUser", { name: "eve" });
        const eve = (await ok("UserService/CreateToken", { user: "eve" })).token as string;
        await ok("PluginService/CreatePlugin", { plugin: "admin/echo", visibility: "private" });
        await ok("PluginService/CreatePluginVersion", {
          plugin: "admin/echo",
          version: "v1.0.0",
          command: [echoPlugin],
        });
        const mod = join(work, "remote-private");
        await writeModule(mod, {
          "buf.yaml": "version: v2\n",
          "p/v1/p.proto": 'syntax = "proto3";\npackage p.v1;\nmessage P {}\n',
        });
        // echo.mjs answers with the response its option spells out.
        const generate = (response: object, token: string) =>
          writeFile(
            join(mod, "buf.gen.yaml"),
            `version: v2\nplugins:\n  - remote: ${host}/admin/echo\n    out: out\n` +
              `    opt: ['${JSON.stringify(response)}']\n`,
          ).then(() => buf(mod, ["generate"], { token }));
        const file = { supportedFeatures: "1", file: [{ name: "p/v1/p.txt", content: "made remotely\n" }] };

        await rm(env.NETRC as string, { force: true });
        const stranger = await generate(file, eve);
        assert.notEqual(stranger.code, 0);
        assert.match(stranger.stderr, /plugin admin\/echo does not exist/);
        const missing = await buf(
          mod,
          [
            "generate",
            "--template",
            JSON.stringify({ version: "v2", plugins: [{ remote: `${host}/admin/nope`, out: "out" }] }),
          ],
          { token: eve },
        );
        assert.match(missing.stderr, /plugin admin\/nope does not exist/);

        const owner = await generate(file, adminToken);
        assert.equal(owner.code, 0, owner.stderr);
        assert.equal(await readFile(join(mod, "out", "p/v1/p.txt"), "utf8"), "made remotely\n");

        const failing = await generate(
          { error: "p.proto: field names must be lower_snake_case" },
          adminToken,
        );
        assert.notEqual(failing.code, 0);
        assert.match(
          failing.stderr,
          /plugin admin\/echo:v1\.0\.0 failed: p\.proto: field names must be lower_snake_case/,
        );
        const escaping = await generate(
          { supportedFeatures: "1", file: [{ name: "../escape.txt", content: "x" }] },
          adminToken,
        );
        assert.notEqual(escaping.code, 0);
        assert.match(
          escaping.stderr,
          /plugin admin\/echo:v1\.0\.0 generated file "\.\.\/escape\.txt": path contains "\.\."/,
        );
        await assert.rejects(readFile(join(work, "escape.txt")));

        const anonymous = await buf(mod, ["generate"]);
        assert.notEqual(anonymous.code, 0);
        assert.match(anonymous.stderr, /not authenticated/);
      });
  });
}
