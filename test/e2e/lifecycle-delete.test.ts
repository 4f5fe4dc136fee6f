// Deletion that breaks no one (docs/lifecycle.md, "Deletion"): refused while something depends on the thing or
// while its packages are downloaded; afterwards its name answers 410 Gone on every registry (the real go and npm
// say so), stays reserved from everyone, and comes back only after a configured quarantine. The same for plugins
// and templates.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { type GoEnv, goHost, makeGoEnv, runGo, writeConsumer } from "./support/go.js";
import { createNpmProject } from "./support/npm-client.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

/** Long enough to check a refusal right after the deletion, short enough for the test to wait it out. */
const privateQuarantineSeconds = 1.5;

describe("deleting modules, plugins and templates", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let cli: Record<string, string>;
  const tokens = new Map<string, string>();
  let hiddenDeleted = { before: 0, after: 0 };

  /**
   * Creates a name whose deletion was asked at `deleted.before` and answered at `deleted.after` (this side's clock):
   * an attempt answered before `before` + quarantine must be refused, one after `after` + quarantine must succeed.
   * On a slow machine the first attempt may come too late to prove the refusal; the unit tests hold the rule to an
   * injected clock.
   */
  const reservedThenFree = async (
    create: () => Promise<{ status: number; body: string }>,
    deleted: { before: number; after: number },
    reserved: RegExp,
  ) => {
    const quarantineMs = privateQuarantineSeconds * 1000;
    const early = await create();
    if (Date.now() < deleted.before + quarantineMs) {
      assert.equal(early.status, 410, early.body);
      assert.match(early.body, reserved);
    } else if (early.status === 200) {
      return;
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, deleted.after + quarantineMs + 100 - Date.now())),
    );
    const late = await create();
    assert.equal(late.status, 200, late.body);
  };

  const api = async (method: string, body: unknown, token: string | undefined = adminToken) => {
    const res = await callApi(server.url, method, body, token);
    return { status: res.status, body: await res.text() };
  };
  const ok = async (method: string, body: unknown, token: string = adminToken) => {
    const res = await api(method, body, token);
    assert.equal(res.status, 200, `${method}: ${res.body}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  };
  const get = async (path: string, token: string | undefined = adminToken) => {
    const res = await fetch(
      `${server.url}${path}`,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    return { status: res.status, body: await res.text() };
  };

  /** Pushes acme/NAME (one file, optional deps on other acme modules) through the real CLI. */
  const push = async (name: string, deps: string[] = [], visibility = "public") => {
    const dir = join(work, "modules", name);
    const pkg = `acme.${name.replace(/-/g, "")}.v1`;
    await mkdir(join(dir, "acme", name, "v1"), { recursive: true });
    const depLines = deps.map((d) => `  - buf.build/acme/${d}\n`).join("");
    await writeFile(
      join(dir, "buf.yaml"),
      `version: v1\nname: buf.build/acme/${name}\n${deps.length ? `deps:\n${depLines}` : ""}`,
    );
    const imports = deps.map((d) => `import "acme/${d}/v1/${d}.proto";\n`).join("");
    const fields = deps
      .map((d, i) => `  acme.${d.replace(/-/g, "")}.v1.Thing f${i + 2} = ${i + 2};\n`)
      .join("");
    await writeFile(
      join(dir, "acme", name, "v1", `${name}.proto`),
      `syntax = "proto3";\npackage ${pkg};\n${imports}message Thing {\n  string id = 1;\n${fields}}\n`,
    );
    await cliOk(["push", dir, "--visibility", visibility], cli);
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-delete-"));
    const config = join(work, "config.json");
    await writeFile(
      config,
      JSON.stringify({
        lifecycle: {
          quarantineDays: { public: "forever", private: privateQuarantineSeconds / 86_400 },
          refuseDeleteIfServedWithinDays: 1,
        },
      }),
    );
    server = await startTestServer({ dataDir: data.dir, orgs: ["acme"], args: ["--config", config] });
    cli = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    // olivia owns acme, walt writes to it, mallory is a stranger.
    for (const [name, role] of [
      ["olivia", "owner"],
      ["walt", "writer"],
      ["mallory", ""],
    ] as const) {
      await ok("UserService/CreateUser", { name });
      if (role) await ok("OrganizationService/AddMember", { organization: "acme", user: name, role });
      const created = await ok("UserService/CreateToken", { user: name, note: "delete" });
      tokens.set(name, String(created.token));
    }
    await push("base");
    await push("app", ["base"]);
    await push("used");
    await push("gone");
    await push("hidden", [], "private");
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("refuses deleting a module others depend on, naming them, and asks for --force", async () => {
    const unforced = await runCli(["module", "delete", "acme/base"], cli);
    assert.notEqual(unforced.code, 0);
    assert.match(unforced.stderr, /cannot be undone.*pass --force/);
    const refused = await runCli(["module", "delete", "acme/base", "--force"], cli);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /module acme\/base cannot be deleted: other modules depend on its commits \(acme\/app\)/,
    );
    const byWriter = await api("ModuleService/DeleteModule", { module: "acme/app" }, tokens.get("walt"));
    assert.equal(byWriter.status, 403, byWriter.body);
    assert.equal((await get("/acme/base/archive/main.tar.gz")).status, 200);
  });

  it("refuses deleting a module whose packages were downloaded within lifecycle.refuseDeleteIfServedWithinDays", async () => {
    const tgz = "/npm/@protodepot/protodepot_es_acme_used/-/protodepot_es_acme_used-1.1.1.tgz";
    assert.equal((await get(tgz)).status, 200);
    const refused = await api("ModuleService/DeleteModule", { module: "acme/used" }, tokens.get("olivia"));
    assert.equal(refused.status, 400, refused.body);
    assert.match(
      refused.body,
      /module acme\/used cannot be deleted: packages generated from it were downloaded on \d{4}-\d{2}-\d{2}/,
    );
  });

  it("answers 410 Gone for a deleted module on every registry, and 404 to those who could not see a private one", async () => {
    await cliOk(["module", "delete", "acme/gone", "--force"], {
      ...cli,
      PROTODEPOT_TOKEN: tokens.get("olivia") ?? "",
    });
    const es = "protodepot_es_acme_gone";
    const urls = [
      "/acme/gone/archive/main.tar.gz",
      "/v1/protodepot/es/latest/acme/gone/main.tar.gz",
      "/v1/protodepot/es/latest/acme/gone/main.zip",
      "/v1/protodepot/es/latest/acme/gone/main.include_imports.tar.gz",
      `/go/${goHost}/protodepot/go/acme/gone/@v/list`,
      `/go/${goHost}/protodepot/go/acme/gone/@latest`,
      `/go/${goHost}/protodepot/go/acme/gone/@v/v1.1.1.info`,
      `/go/${goHost}/protodepot/go/acme/gone/@v/v1.1.1.mod`,
      `/go/${goHost}/protodepot/go/acme/gone/@v/v1.1.1.zip`,
      `/npm/@protodepot%2f${es}`,
      `/npm/@protodepot/${es}/-/${es}-1.1.1.tgz`,
      "/pypi/simple/protodepot-python-acme-gone/",
      "/pypi/files/protodepot-python-acme-gone/protodepot_python_acme_gone-1.1.1-py3-none-any.whl",
      "/maven/protodepot/gen/protodepot_java_acme_gone/maven-metadata.xml",
      "/maven/protodepot/gen/protodepot_java_acme_gone/1.1.1/protodepot_java_acme_gone-1.1.1.pom",
      "/maven/protodepot/gen/protodepot_java_acme_gone/1.1.1/protodepot_java_acme_gone-1.1.1.jar",
      "/gems/info/protodepot_ruby_acme_gone",
      "/gems/gems/protodepot_ruby_acme_gone-1.1.1.gem",
      "/gems/quick/Marshal.4.8/protodepot_ruby_acme_gone-1.1.1.gemspec.rz",
      "/cmake/protodepot/cpp/acme/gone/1.1.1.tar.gz",
      "/acme/gone",
    ];
    // The Rust template exists where the machine has protoc-gen-prost (CI does); without it cargo's URLs answer for
    // the missing template first.
    if ((await api("TemplateService/GetTemplate", { template: "protodepot/rust" })).status === 200) {
      urls.push(
        "/cargo/index/pr/ot/protodepot_rust_acme_gone",
        "/cargo/crates/protodepot_rust_acme_gone/1.1.1/download",
      );
    }
    const wrong: string[] = [];
    for (const url of urls) {
      const res = await get(url);
      if (res.status !== 410 || !/acme\/gone was deleted/.test(res.body))
        wrong.push(`${url}: ${res.status} ${res.body.slice(0, 200)}`);
    }
    // buf's API and ours: Connect's failed_precondition with the message, over HTTP 410.
    for (const [method, body] of [
      [
        "buf.registry.module.v1.ModuleService/GetModules",
        { moduleRefs: [{ name: { owner: "acme", module: "gone" } }] },
      ],
      [
        "buf.registry.module.v1.LabelService/GetLabels",
        { labelRefs: [{ name: { owner: "acme", module: "gone", label: "main" } }] },
      ],
    ] as const) {
      const res = await fetch(`${server.url}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status !== 410 || !/acme\/gone was deleted/.test(text))
        wrong.push(`${method}: ${res.status} ${text}`);
    }
    const ours = await api("ModuleService/ListCommits", { module: "acme/gone" });
    if (ours.status !== 410 || !/failed_precondition.*acme\/gone was deleted/.test(ours.body))
      wrong.push(`ListCommits: ${ours.status} ${ours.body}`);
    assert.deepEqual(wrong, []);

    // A private module deleted: 410 to its owners, 404 (as for anything hidden) to a stranger.
    const before = Date.now();
    await cliOk(["module", "delete", "acme/hidden", "--force"], cli);
    hiddenDeleted = { before, after: Date.now() };
    assert.equal((await get("/acme/hidden/archive/main.tar.gz")).status, 410);
    const npmHidden = "/npm/@protodepot%2fprotodepot_es_acme_hidden";
    assert.equal((await get(npmHidden)).status, 410);
    assert.equal((await get(npmHidden, tokens.get("mallory"))).status, 404);
    assert.equal((await get("/acme/hidden/archive/main.tar.gz", tokens.get("mallory"))).status, 404);
  });

  it("the real go and npm say the module was deleted", async () => {
    const go: GoEnv = await makeGoEnv(join(work, "go"), server.url);
    const consumer = join(work, "go-consumer");
    await writeConsumer(consumer, "package main\n\nfunc main() {}\n");
    const got = await runGo(["get", `${goHost}/protodepot/go/acme/gone@latest`], {
      cwd: consumer,
      env: go.env,
    });
    assert.notEqual(got.code, 0);
    assert.match(got.stderr, /410 Gone/);
    assert.match(got.stderr, /module acme\/gone was deleted/);

    const project = await createNpmProject({
      dir: join(work, "npm-consumer"),
      registry: `${server.url}/npm/`,
      scope: "protodepot",
      token: adminToken,
    });
    const installed = await project.tryNpm(["install", "@protodepot/protodepot_es_acme_gone"]);
    assert.notEqual(installed.code, 0);
    assert.match(installed.stderr, /410/);
    assert.match(installed.stderr, /module acme\/gone was deleted/);
  });

  it("keeps a deleted public name from everyone, and gives a private one back after its quarantine", async () => {
    const byWriter = await api("ModuleService/CreateModule", { module: "acme/gone" }, tokens.get("walt"));
    assert.equal(byWriter.status, 410, byWriter.body);
    assert.match(byWriter.body, /module acme\/gone was deleted; its name stays reserved for good/);
    const byStranger = await api(
      "ModuleService/CreateModule",
      { module: "acme/gone" },
      tokens.get("mallory"),
    );
    assert.equal(byStranger.status, 403, byStranger.body);
    const pushed = await runCli(["push", join(work, "modules", "gone")], cli);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /acme\/gone was deleted; its name stays reserved/);

    // acme/hidden was private (deleted in an earlier step): reserved until its quarantine ends, then free.
    await reservedThenFree(
      () => api("ModuleService/CreateModule", { module: "acme/hidden", visibility: "private" }),
      hiddenDeleted,
      /module acme\/hidden was deleted; its name stays reserved until/,
    );
    await push("hidden", [], "private");
    assert.equal((await get("/acme/hidden/archive/main.tar.gz")).status, 200);
  });

  it("deletes plugins and templates the same way: refused while used, 410 after, name reserved, audited", async () => {
    const es = join(repoRoot, "node_modules", ".bin", "protoc-gen-es");
    await ok("PluginService/CreatePlugin", { plugin: "acme/gen", visibility: "public" });
    await ok("PluginService/CreatePluginVersion", { plugin: "acme/gen", version: "v1.0.0", command: [es] });
    await ok("TemplateService/CreateTemplate", {
      template: "acme/ts",
      visibility: "public",
      plugins: [{ owner: "acme", name: "gen", parameter: "target=ts" }],
    });
    await ok("TemplateService/CreateTemplateVersion", {
      template: "acme/ts",
      pluginVersions: [{ owner: "acme", name: "gen", version: "v1.0.0" }],
    });
    const olivia = { ...cli, PROTODEPOT_TOKEN: tokens.get("olivia") ?? "" };
    const pinned = await runCli(["plugin", "delete", "acme/gen", "--force"], olivia);
    assert.notEqual(pinned.code, 0);
    assert.match(
      pinned.stderr,
      /plugin acme\/gen cannot be deleted: templates run it or pin one of its versions \(acme\/ts\)/,
    );
    const byWriter = await api("TemplateService/DeleteTemplate", { template: "acme/ts" }, tokens.get("walt"));
    assert.equal(byWriter.status, 403, byWriter.body);

    await cliOk(["template", "delete", "acme/ts", "--force"], olivia);
    for (const url of [
      "/v1/acme/ts/v1/acme/base/main.tar.gz",
      "/npm/@protodepot%2facme_ts_acme_base",
      `/go/${goHost}/acme/ts/acme/base/@v/list`,
      "/pypi/simple/acme-ts-acme-base/",
      "/maven/protodepot/gen/acme_ts_acme_base/maven-metadata.xml",
      "/gems/info/acme_ts_acme_base",
      "/cargo/index/ac/me/acme_ts_acme_base",
      "/cmake/acme/ts/acme/base/1.1.1.tar.gz",
      "/acme/templates/ts",
    ]) {
      const res = await get(url);
      assert.equal(res.status, 410, `${url}: ${res.body}`);
      assert.match(res.body, /template acme\/ts was deleted/, url);
    }
    const listed = await ok("TemplateService/ListTemplates", { owner: "acme" });
    assert.deepEqual(listed.templates ?? [], []);
    const again = await api("TemplateService/CreateTemplate", {
      template: "acme/ts",
      plugins: [{ owner: "acme", name: "gen", parameter: "" }],
    });
    assert.equal(again.status, 410, again.body);

    // The template gone, the plugin may go.
    await cliOk(["plugin", "delete", "acme/gen", "--force"], olivia);
    const versions = await api("PluginService/ListPluginVersions", { plugin: "acme/gen" });
    assert.equal(versions.status, 410, versions.body);
    assert.match(versions.body, /plugin acme\/gen was deleted/);
    const recreate = await api("PluginService/CreatePlugin", { plugin: "acme/gen" });
    assert.equal(recreate.status, 410, recreate.body);
    assert.match(recreate.body, /stays reserved for good/);

    // A private plugin's name comes back after its quarantine.
    await ok("PluginService/CreatePlugin", { plugin: "acme/secret-gen", visibility: "private" });
    const before = Date.now();
    await ok("PluginService/DeletePlugin", { plugin: "acme/secret-gen" }, tokens.get("olivia"));
    const secretDeleted = { before, after: Date.now() };
    const hidden = await api(
      "PluginService/ListPluginVersions",
      { plugin: "acme/secret-gen" },
      tokens.get("mallory"),
    );
    assert.equal(hidden.status, 404, hidden.body);
    await reservedThenFree(
      () => api("PluginService/CreatePlugin", { plugin: "acme/secret-gen", visibility: "private" }),
      secretDeleted,
      /plugin acme\/secret-gen was deleted; its name stays reserved until/,
    );

    const { events } = (await ok("AuditService/ListAuditEvents", { owner: "acme", limit: 1000 })) as {
      events: { action: string; target: string }[];
    };
    const deletions = events
      .filter((e) => e.action.endsWith(".delete"))
      .map((e) => `${e.action} ${e.target}`);
    for (const expected of [
      "module.delete acme/gone",
      "module.delete acme/hidden",
      "template.delete acme/ts",
      "plugin.delete acme/gen",
      "plugin.delete acme/secret-gen",
    ]) {
      assert.ok(deletions.includes(expected), `${expected} in ${deletions.join(", ")}`);
    }
  });
});
