// Visibility through the CLI as users drive it: --visibility on push, create and update; public things never
// depend on private ones; a fully private instance (auth.anonymousRead: false); rotating the admin token.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

async function writeModule(root: string, name: string, deps: string[] = []): Promise<string> {
  const dir = join(root, name.replace("/", "-"));
  const pkg = name.replace("/", ".").replaceAll("-", "");
  await mkdir(join(dir, "p"), { recursive: true });
  const depLines = deps.length ? `deps:\n${deps.map((d) => `  - buf.build/${d}\n`).join("")}` : "";
  await writeFile(join(dir, "buf.yaml"), `version: v1\nname: buf.build/${name}\n${depLines}`);
  const imports = deps.map((d) => `import "p/${d.split("/")[1]?.replaceAll("-", "")}.proto";\n`).join("");
  await writeFile(
    join(dir, "p", `${name.split("/")[1]?.replaceAll("-", "")}.proto`),
    `syntax = "proto3";\npackage ${pkg};\n${imports}message M { string id = 1; }\n`,
  );
  return dir;
}

const status = async (url: string, token?: string) =>
  (await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status;

describe("visibility", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-visibility-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["acme"] });
    env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken };
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("push --visibility, module create and module update decide who sees a module", async () => {
    const dir = await writeModule(work, "acme/secret");
    const pushed = await cliOk(["push", dir, "--visibility", "private"], env);
    assert.match(pushed.stdout, /pushed acme\/secret/);
    const sources = `${server.url}/acme/secret/archive/main.tar.gz`;
    assert.equal(await status(sources), 404);
    assert.equal(await status(sources, adminToken), 200);
    const anonymousList = await runCli(["module", "list", "acme", "--remote", server.url, "--token", ""]);
    assert.doesNotMatch(anonymousList.stdout, /acme\/secret/);

    await cliOk(["module", "update", "acme/secret", "--visibility", "public"], env);
    assert.equal(await status(sources), 200);
    await cliOk(["module", "update", "acme/secret", "--visibility", "private"], env);
    assert.equal(await status(sources), 404);

    const created = await cliOk(["module", "create", "acme/later", "--visibility", "private"], env);
    assert.match(created.stdout, /created private module acme\/later/);
    // The push keeps the visibility chosen at creation.
    await cliOk(["push", await writeModule(work, "acme/later")], env);
    assert.equal(await status(`${server.url}/acme/later/archive/main.tar.gz`), 404);
    const bad = await runCli(["module", "create", "acme/odd", "--visibility", "secret"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid visibility "secret": use public or private/);
  });

  it("refuses a public module that depends on a private one, naming the dependency", async () => {
    await cliOk(["push", await writeModule(work, "acme/inner"), "--visibility", "private"], env);
    const outer = await writeModule(work, "acme/outer", ["acme/inner"]);
    const refused = await runCli(["push", outer, "--visibility", "public"], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /public module acme\/outer cannot depend on private modules \(acme\/inner\)/,
    );
    // The hint names our CLI's own flag (buf's push is told --create-visibility private).
    assert.match(refused.stderr, /push with --visibility private, or make the dependencies public/);
    // Nothing was created by the refused push.
    assert.equal((await runCli(["commit", "list", "acme/outer"], env)).code, 1);
    await cliOk(["push", outer, "--visibility", "private"], env);
    const opened = await runCli(["module", "update", "acme/outer", "--visibility", "public"], env);
    assert.equal(opened.code, 1);
    assert.match(
      opened.stderr,
      /acme\/outer cannot become public: it depends on private modules \(acme\/inner\)/,
    );
  });

  it("refuses to make private a module that public modules depend on, naming them", async () => {
    await cliOk(["push", await writeModule(work, "acme/base"), "--visibility", "public"], env);
    await cliOk(["push", await writeModule(work, "acme/app", ["acme/base"]), "--visibility", "public"], env);
    const refused = await runCli(["module", "update", "acme/base", "--visibility", "private"], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /acme\/base cannot become private: public modules depend on it \(acme\/app\)/,
    );
    await cliOk(["module", "update", "acme/app", "--visibility", "private"], env);
    await cliOk(["module", "update", "acme/base", "--visibility", "private"], env);
  });

  it("keeps public templates on public plugins, in both directions of a change", async () => {
    const es = join(repoRoot, "node_modules/.bin/protoc-gen-es");
    await cliOk(["plugin", "create", "acme/hidden-es", "--visibility", "private"], env);
    await cliOk(["plugin", "version", "create", "acme/hidden-es", "v1.0.0", "--command", es], env);
    const config = JSON.stringify({
      plugins: [{ owner: "acme", name: "hidden-es", parameter: "target=ts" }],
    });
    const refused = await runCli(
      ["template", "create", "acme/open", "--visibility", "public", "--config", config],
      env,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /public template acme\/open cannot use private plugins \(acme\/hidden-es\)/);
    await cliOk(["template", "create", "acme/closed", "--visibility", "private", "--config", config], env);
    const opened = await runCli(["template", "update", "acme/closed", "--visibility", "public"], env);
    assert.equal(opened.code, 1);
    assert.match(opened.stderr, /cannot use private plugins \(acme\/hidden-es\)/);

    await cliOk(["plugin", "create", "acme/open-es", "--visibility", "public"], env);
    await cliOk(["plugin", "version", "create", "acme/open-es", "v1.0.0", "--command", es], env);
    const openConfig = JSON.stringify({
      plugins: [{ owner: "acme", name: "open-es", parameter: "target=ts" }],
    });
    await cliOk(["template", "create", "acme/open", "--visibility", "public", "--config", openConfig], env);
    const hidden = await runCli(["plugin", "update", "acme/open-es", "--visibility", "private"], env);
    assert.equal(hidden.code, 1);
    assert.match(
      hidden.stderr,
      /acme\/open-es cannot become private: public templates use it \(acme\/open\)/,
    );
  });
});

describe("a fully private instance (auth.anonymousRead: false)", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;

  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({
      dataDir: data.dir,
      args: ["--demo"],
      env: { PROTODEPOT_AUTH_ANONYMOUS_READ: "false" },
    });
  });
  after(async () => {
    await server.stop();
    await data.remove();
  });

  it("answers 401 to every anonymous read, and serves the same reads with a token", async () => {
    const paths = [
      "/demo/payments/archive/main.tar.gz",
      "/v1/protodepot/es/latest/demo/payments/main.tar.gz",
      "/go/protodepot.local/protodepot/go/demo/payments/@v/list",
      "/npm/@protodepot%2fprotodepot_es_demo_payments",
      "/demo/nothing/archive/main.tar.gz",
    ];
    for (const path of paths) {
      assert.equal(await status(`${server.url}${path}`), 401, path);
    }
    for (const path of paths.slice(0, 2))
      assert.equal(await status(`${server.url}${path}`, adminToken), 200, path);
    const list = await runCli(["module", "list", "--remote", server.url, "--token", ""]);
    assert.equal(list.code, 1);
    assert.match(list.stderr, /needs a token for every read/);
    const listed = await cliOk(["module", "list", "--remote", server.url, "--token", adminToken]);
    assert.match(listed.stdout, /demo\/payments/);
  });
});

describe("admin token rotation", () => {
  it("changing PROTODEPOT_ADMIN_TOKEN revokes the previous one", async () => {
    const data = await makeDataDir();
    const first = "pd_first-admin-token-000000000000";
    const second = "pd_second-admin-token-00000000000";
    try {
      let server = await startTestServer({ dataDir: data.dir, env: { PROTODEPOT_ADMIN_TOKEN: first } });
      await cliOk(["module", "list", "--remote", server.url, "--token", first]);
      await server.stop();
      server = await startTestServer({ dataDir: data.dir, env: { PROTODEPOT_ADMIN_TOKEN: second } });
      try {
        await cliOk(["module", "list", "--remote", server.url, "--token", second]);
        const old = await runCli(["module", "list", "--remote", server.url, "--token", first]);
        assert.equal(old.code, 1);
        assert.match(old.stderr, /revoked/);
      } finally {
        await server.stop();
      }
    } finally {
      await data.remove();
    }
  });
});
