// Deprecation, everywhere a consumer looks (docs/lifecycle.md): the real buf, npm and go, the PyPI index, the web
// page and our CLI show a deprecated module, template or plugin with its owner's message; undeprecating clears
// them all, and no version's bytes change on the way.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { type GoEnv, goHost, goOk, makeGoEnv, writeConsumer } from "./support/go.js";
import { createNpmProject, type NpmProject } from "./support/npm-client.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const goMoney = `${goHost}/protodepot/go/demo/money`;
const npmMoney = "@protodepot/protodepot_es_demo_money";
const pypiMoney = "protodepot-python-demo-money";
const bufBin = join(repoRoot, "node_modules", ".bin", "buf");
const moduleNotice = "module demo/money is deprecated: use demo/money2";

interface Packument {
  "dist-tags": Record<string, string>;
  versions: Record<string, { deprecated?: string }>;
}

describe("deprecation in every client", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let cli: Record<string, string>;
  let go: GoEnv;
  let consumer: string;
  let npmProject: NpmProject;
  let bufEnv: Record<string, string>;
  let bufApp: string;
  /** Each push of demo/money changes one field number, so every push is a new commit. */
  let pushes = 0;

  const pushMoney = async () => {
    pushes += 1;
    const dir = join(work, `money-${pushes}`);
    await cp(join(repoRoot, "examples/money"), dir, { recursive: true });
    await writeFile(
      join(dir, "demo/money/v1/extra.proto"),
      `syntax = "proto3";\npackage demo.money.v1;\nmessage Extra${pushes} { string note = ${pushes}; }\n`,
    );
    await cliOk(["push", dir], cli);
  };
  const text = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, { headers });
    const body = await res.text();
    assert.equal(res.status, 200, `${path}: ${body}`);
    return body;
  };
  const packument = async () => JSON.parse(await text(`/npm/${npmMoney.replace("/", "%2f")}`)) as Packument;
  const pypiJson = async () =>
    JSON.parse(
      await text(`/pypi/simple/${pypiMoney}/`, { accept: "application/vnd.pypi.simple.v1+json" }),
    ) as { meta: { "api-version": string }; "project-status"?: { status: string; reason: string } };
  const goDeprecation = async () => {
    const out = await goOk(["list", "-m", "-u", "-json", goMoney], { cwd: consumer, env: go.env });
    return (JSON.parse(out.stdout) as { Deprecated?: string; Update?: { Version: string } }).Deprecated;
  };
  const buf = async (args: string[]) => {
    const child = spawn(bufBin, args, { cwd: bufApp, env: bufEnv, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    assert.equal(code, 0, `buf ${args.join(" ")} failed:\n${out}`);
    return out;
  };
  const bufDepUpdate = async () => {
    await rm(bufEnv.BUF_CACHE_DIR ?? "", { recursive: true, force: true });
    return buf(["dep", "update"]);
  };
  /** A fresh install of the money package: npm warns while it resolves a deprecated version. */
  const npmInstall = async () => {
    await rm(join(npmProject.dir, "node_modules"), { recursive: true, force: true });
    await rm(join(npmProject.dir, "package-lock.json"), { force: true });
    const res = await npmProject.npm(["install", `${npmMoney}@latest`]);
    return `${res.stderr}${res.stdout}`;
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-deprecation-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
    cli = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await pushMoney();

    consumer = join(work, "go-consumer");
    go = await makeGoEnv(join(work, "go"), server.url);
    await writeConsumer(consumer, "package main\n\nfunc main() {}\n");
    await goOk(["get", `${goMoney}@v1.1.1`], { cwd: consumer, env: go.env });

    npmProject = await createNpmProject({
      dir: join(work, "npm-consumer"),
      registry: `${server.url}/npm/`,
      scope: "protodepot",
      token: adminToken,
    });

    // buf speaks https to every registry unless its config turns TLS off.
    const host = new URL(server.url).host;
    const bufConfig = join(work, "buf-config");
    await mkdir(join(work, "home"), { recursive: true });
    await mkdir(bufConfig, { recursive: true });
    await writeFile(join(bufConfig, "config.yaml"), "version: v1\ntls:\n  use: false\n");
    bufEnv = {
      PATH: process.env.PATH ?? "",
      HOME: join(work, "home"),
      BUF_CACHE_DIR: join(work, "buf-cache"),
      BUF_CONFIG_DIR: bufConfig,
      BUF_TOKEN: `${adminToken}@${host}`,
    };
    bufApp = join(work, "buf-app");
    await mkdir(join(bufApp, "app/v1"), { recursive: true });
    await writeFile(join(bufApp, "buf.yaml"), `version: v2\ndeps:\n  - ${host}/demo/money\n`);
    await writeFile(
      join(bufApp, "app/v1/app.proto"),
      'syntax = "proto3";\npackage app.v1;\nimport "demo/money/v1/money.proto";\nmessage Order { demo.money.v1.Money total = 1; }\n',
    );
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("shows nothing before anything is deprecated", async () => {
    const p = await packument();
    assert.ok(Object.keys(p.versions).length > 0);
    for (const v of Object.values(p.versions)) assert.equal(v.deprecated, undefined);
    assert.equal((await pypiJson())["project-status"], undefined);
    assert.doesNotMatch(await text("/demo/money"), /class="deprecated"/);
    assert.equal(await goDeprecation(), undefined);
    assert.doesNotMatch(await bufDepUpdate(), /deprecated/);
  });

  it("a deprecated module shows in buf, npm, Go (from its next version), PyPI, the web page and our CLI", async () => {
    const servedMod = await text(`/go/${goMoney}/@v/v1.1.1.mod`);
    const said = await cliOk(["module", "deprecate", "demo/money", "--message", "use demo/money2"], cli);
    assert.match(said.stdout, /module demo\/money is deprecated: use demo\/money2/);

    // npm: every version carries it, and the real npm warns while installing.
    const p = await packument();
    for (const v of Object.values(p.versions)) assert.equal(v.deprecated, moduleNotice);
    assert.match(
      await npmInstall(),
      new RegExp(`npm warn deprecated ${npmMoney}@1\\.\\d+\\.1: ${moduleNotice}`, "i"),
    );

    // PyPI: PEP 792's project status, in JSON and in the HTML page's meta.
    const json = await pypiJson();
    assert.equal(json.meta["api-version"], "1.4");
    assert.deepEqual(json["project-status"], { status: "deprecated", reason: moduleNotice });
    const html = await text(`/pypi/simple/${pypiMoney}/`, { accept: "text/html" });
    assert.match(html, /<meta name="pypi:project-status" content="deprecated">/);
    assert.match(html, /<meta name="pypi:project-status-reason" content="module demo\/money is deprecated/);

    // The web page's banner, and our CLI.
    assert.match(
      await text("/demo/money"),
      /class="deprecated"[^>]*><strong>Deprecated<\/strong> · module demo\/money is deprecated: use demo\/money2/,
    );
    assert.match(
      (await cliOk(["module", "info", "demo/money"], cli)).stdout,
      /^deprecated: use demo\/money2$/m,
    );

    // buf: its module has no message field, so buf names the module only.
    assert.match(await bufDepUpdate(), /demo\/money is deprecated/);

    // Go: the served version's bytes stay; the next push's version says it, and go reads it from the newest one.
    assert.equal(await text(`/go/${goMoney}/@v/v1.1.1.mod`), servedMod);
    assert.equal(await goDeprecation(), undefined);
    await pushMoney();
    assert.equal(await text(`/go/${goMoney}/@v/v1.1.1.mod`), servedMod);
    assert.match(
      await text(`/go/${goMoney}/@v/v1.1.2.mod`),
      new RegExp(`^// Deprecated: ${moduleNotice}\nmodule ${goMoney}\n`),
    );
    assert.equal(await goDeprecation(), moduleNotice);
    const got = await goOk(["get", `${goMoney}@latest`], { cwd: consumer, env: go.env });
    assert.match(got.stderr, new RegExp(`module ${goMoney} is deprecated: ${moduleNotice}`));
  });

  it("undeprecating clears every client (Go from the next version: the deprecated one keeps its go.mod)", async () => {
    const deprecatedMod = await text(`/go/${goMoney}/@v/v1.1.2.mod`);
    await cliOk(["module", "undeprecate", "demo/money"], cli);
    for (const v of Object.values((await packument()).versions)) assert.equal(v.deprecated, undefined);
    assert.doesNotMatch(await npmInstall(), /deprecated/i);
    assert.equal((await pypiJson())["project-status"], undefined);
    assert.doesNotMatch(await text(`/pypi/simple/${pypiMoney}/`, { accept: "text/html" }), /project-status/);
    assert.doesNotMatch(await text("/demo/money"), /class="deprecated"/);
    assert.doesNotMatch((await cliOk(["module", "info", "demo/money"], cli)).stdout, /deprecated/);
    assert.doesNotMatch(await bufDepUpdate(), /deprecated/);

    await pushMoney();
    assert.equal(await text(`/go/${goMoney}/@v/v1.1.2.mod`), deprecatedMod);
    assert.match(await text(`/go/${goMoney}/@v/v1.1.3.mod`), new RegExp(`^module ${goMoney}\n`));
    assert.equal(await goDeprecation(), undefined);
  });

  it("a deprecated plugin or template deprecates the packages made with it, until undeprecated", async () => {
    const deprecatedAll = async (expected: string | undefined) => {
      const versions = Object.values((await packument()).versions);
      assert.ok(versions.length > 0);
      for (const v of versions) assert.equal(v.deprecated, expected);
    };
    const plugin = await cliOk(["plugin", "deprecate", "bufbuild/es", "--message", "use bufbuild/es3"], cli);
    assert.match(plugin.stdout, /plugin bufbuild\/es is deprecated: use bufbuild\/es3/);
    await deprecatedAll("plugin bufbuild/es is deprecated: use bufbuild/es3");
    assert.match(
      await npmInstall(),
      /npm warn deprecated .*plugin bufbuild\/es is deprecated: use bufbuild\/es3/i,
    );
    assert.match(
      await text("/protodepot/templates/es"),
      /<strong>Deprecated<\/strong> · plugin bufbuild\/es is deprecated/,
    );
    assert.match(
      await text("/bufbuild/plugins/es"),
      /<strong>Deprecated<\/strong> · plugin bufbuild\/es is deprecated/,
    );
    assert.match(
      (await cliOk(["plugin", "info", "bufbuild/es"], cli)).stdout,
      /^deprecated: use bufbuild\/es3$/m,
    );

    await cliOk(["template", "deprecate", "protodepot/es"], cli);
    await deprecatedAll(
      "template protodepot/es is deprecated; plugin bufbuild/es is deprecated: use bufbuild/es3",
    );
    await cliOk(["plugin", "undeprecate", "bufbuild/es"], cli);
    await deprecatedAll("template protodepot/es is deprecated");
    assert.match((await cliOk(["template", "show", "protodepot/es"], cli)).stdout, /^deprecated$/m);
    await cliOk(["template", "undeprecate", "protodepot/es"], cli);
    await deprecatedAll(undefined);
    assert.doesNotMatch(await text("/protodepot/templates/es"), /class="deprecated"/);
    assert.doesNotMatch(await npmInstall(), /deprecated/i);

    // Each change is audited as the owner decision it is.
    const audit = await cliOk(["audit", "list", "--action", "plugin.deprecate"], cli);
    assert.match(audit.stdout, /plugin\.deprecate.*bufbuild\/es/);
    const undo = await cliOk(["audit", "list", "--action", "template.undeprecate"], cli);
    assert.match(undo.stdout, /template\.undeprecate.*protodepot\/es/);
  });
});
