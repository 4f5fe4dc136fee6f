// The first week: what a team meets once it goes past the quick start — templates with several versions, its own
// Go plugin, Python wheels of several templates, other clients' indexes — works with the real clients.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { goHost, goOk, makeGoEnv } from "./support/go.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";
import { makeSelfSignedCert } from "./support/tls.js";

const gocode = "/usr/share/gocode/src";

/**
 * A protogen plugin that imports nothing in its output: one `{file}.name.go` per file with the file's Go package
 * name and a constant. protogen refuses to run ("unable to determine Go import path") unless every file has an
 * import path, from go_package or the `M…` options the registry passes to Go plugins.
 */
const protogenPlugin = `package main

import "google.golang.org/protobuf/compiler/protogen"

func main() {
	protogen.Options{}.Run(func(gen *protogen.Plugin) error {
		for _, f := range gen.Files {
			if !f.Generate {
				continue
			}
			g := gen.NewGeneratedFile(f.GeneratedFilenamePrefix+".name.go", f.GoImportPath)
			g.P("package ", f.GoPackageName)
			g.P()
			g.P("const ProtoFile = \\"", f.Desc.Path(), "\\"")
		}
		return nil
	})
}
`;

describe("the first week", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let admin: Record<string, string>;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-first-week-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "cfg"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], admin);
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("shows a template page once the template has two versions", async () => {
    const es = join(repoRoot, "node_modules/.bin/protoc-gen-es");
    await cliOk(["plugin", "create", "acme/es"], admin);
    for (const v of ["v1.0.0", "v1.1.0"]) {
      await cliOk(["plugin", "version", "create", "acme/es", v, "--command", es], admin);
    }
    const config = JSON.stringify({ plugins: [{ owner: "acme", name: "es", parameter: "target=ts" }] });
    await cliOk(["template", "create", "acme/es", "--config", config], admin);
    for (const v of ["v1.0.0", "v1.1.0"]) {
      const pins = JSON.stringify({ plugin_versions: [{ owner: "acme", name: "es", version: v }] });
      await cliOk(["template", "version", "create", "acme/es", "--config", pins], admin);
    }
    // Twice: the second answer comes from the metadata cache's frozen lists.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${server.url}/acme/templates/es`);
      const body = await res.text();
      assert.equal(res.status, 200, body);
      assert.ok(body.indexOf(">v2<") < body.indexOf(">v1<"), "newest version first");
      const plugin = await fetch(`${server.url}/acme/plugins/es`);
      const page = await plugin.text();
      assert.equal(plugin.status, 200, page);
      assert.ok(page.indexOf("v1.1.0") < page.indexOf("v1.0.0"), "newest plugin version first");
    }
  });

  it("runs a protogen Go plugin pushed with --ecosystem go, without any runtime library", async () => {
    const src = join(work, "protoc-gen-name");
    await mkdir(src, { recursive: true });
    await writeFile(join(src, "main.go"), protogenPlugin);
    // Built offline from Debian's sources: no proxy, the module and its own requirements replaced by them.
    await writeFile(
      join(src, "go.mod"),
      "module example.com/protoc-gen-name\n\ngo 1.19\n\nrequire google.golang.org/protobuf v1.28.1\n\n" +
        ["google.golang.org/protobuf", "github.com/google/go-cmp"]
          .map((m) => `replace ${m} => ${gocode}/${m}\n`)
          .join(""),
    );
    const build = await makeGoEnv(join(work, "gobuild"), server.url);
    const binary = join(work, "protoc-gen-name.bin");
    await goOk(["build", "-o", binary, "."], {
      cwd: src,
      env: { ...build.env, GOPROXY: "off", GOFLAGS: "-mod=mod -modcacherw" },
    });

    await cliOk(["plugin", "push", "acme/name:v1.0.0", "--binary", binary, "--ecosystem", "go"], admin);
    const versions = await cliOk(["plugin", "version", "list", "acme/name"], admin);
    assert.doesNotMatch(versions.stdout, /go:/, "no runtime library was declared");
    await cliOk(
      ["template", "create", "acme/name", "--config", '{"plugins":[{"owner":"acme","name":"name"}]}'],
      admin,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        "acme/name",
        "--config",
        '{"plugin_versions":[{"owner":"acme","name":"name","version":"v1.0.0"}]}',
      ],
      admin,
    );

    const archive = await fetch(`${server.url}/v1/acme/name/latest/demo/money/main.tar.gz`);
    assert.equal(archive.status, 200, await archive.clone().text());

    // The generated module requires nothing (no runtime library), and builds with nothing but our proxy.
    const module = `${goHost}/acme/name/demo/money`;
    const mod = await fetch(`${server.url}/go/${module}/@v/v1.1.1.mod`);
    const goMod = await mod.text();
    assert.equal(mod.status, 200, goMod);
    assert.doesNotMatch(goMod, /require/);
    const consumer = join(work, "consumer");
    await mkdir(consumer, { recursive: true });
    await writeFile(join(consumer, "go.mod"), "module example.com/consumer\n\ngo 1.19\n");
    await writeFile(
      join(consumer, "main.go"),
      `package main\n\nimport (\n\t"fmt"\n\n\tmoneyv1 "${module}/demo/money/v1"\n)\n\nfunc main() { fmt.Println(moneyv1.ProtoFile) }\n`,
    );
    const go = await makeGoEnv(join(work, "goconsumer"), server.url);
    await goOk(["get", `${module}@v1.1.1`], { cwd: consumer, env: go.env });
    const run = await goOk(["run", "."], { cwd: consumer, env: go.env });
    assert.equal(run.stdout.trim(), "demo/money/v1/money.proto");
  });

  it("answers a new user's mistakes with what to do", async () => {
    const missing = await runCli(["push", join(work, "nosuchdir")], admin);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nosuchdir does not exist\n$/);

    const lost = await runCli(["module", "list"], {
      XDG_CONFIG_HOME: join(work, "nobody"),
      PROTODEPOT_REMOTE: "",
      PROTODEPOT_TOKEN: "",
    });
    assert.match(lost.stderr, /no remote: run 'protodepot login URL --token-stdin'/);
    assert.doesNotMatch(lost.stderr, /--token T/);

    const me = await cliOk(["whoami"], admin);
    assert.equal(me.stdout, `admin (admin) at ${server.url}\n`);

    await cliOk(
      ["template", "create", "acme/empty", "--config", '{"plugins":[{"owner":"acme","name":"es"}]}'],
      admin,
    );
    const empty = await fetch(`${server.url}/v1/acme/empty/latest/demo/money/main.tar.gz`);
    assert.equal(empty.status, 404);
    assert.match(
      await empty.text(),
      /template acme\/empty has no versions yet: pin its plugins' versions with protodepot template version create acme\/empty --config/,
    );
  });
});

describe("the first week, over https with a self-signed certificate", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-first-week-tls-"));
    const cert = await makeSelfSignedCert(work);
    server = await startTestServer({
      dataDir: data.dir,
      args: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
      env: { PROTODEPOT_LOG_LEVEL: "info" },
    });
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("logs the https address, and tells a client that does not trust the certificate about NODE_EXTRA_CA_CERTS", async () => {
    assert.match(server.url, /^https:/);
    // pino writes the log lines after the start-up line the test waits for.
    for (let i = 0; i < 200 && !server.output().includes('"protodepot listening"'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(server.output(), /Server listening at https:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(server.output(), /listening at http:\/\//);
    const env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "c"),
    };
    const res = await runCli(["whoami"], { ...env, NODE_EXTRA_CA_CERTS: "" });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /self-signed certificate.*NODE_EXTRA_CA_CERTS/);
  });
});
