// The first week: what a team meets once it goes past the quick start — templates with several versions, its own
// Go plugin, Python wheels of several templates, other clients' indexes — works with the real clients.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cliOk, runCli } from "./support/cli.js";
import { goHost, goOk, makeGoEnv } from "./support/go.js";
import { createMavenProject, debianRepository, mavenMissing } from "./support/maven.js";
import { createNpmProject } from "./support/npm-client.js";
import { createVenv, pipMissing } from "./support/pip.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";
import { makeSelfSignedCert } from "./support/tls.js";

const gocode = "/usr/share/gocode/src";
const exec = promisify(execFile);
const pipSkip = await pipMissing();

/**
 * Debian's protobuf runtime as a wheel, so poetry (which installs every dependency itself) finds `protobuf` without
 * the network: Debian ships it as an egg-info directory, never as a wheel.
 */
const debianProtobufWheel = `
import base64, hashlib, os, sys, zipfile
src, out = "/usr/lib/python3/dist-packages", sys.argv[1]
name = "protobuf-4.21.12-cp311-cp311-linux_x86_64.whl"
info = "protobuf-4.21.12.dist-info"
entries = []
for root, dirs, files in sorted(os.walk(os.path.join(src, "google/protobuf"))):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for f in sorted(files):
        path = os.path.join(root, f)
        entries.append((os.path.relpath(path, src), open(path, "rb").read()))
entries.append((info + "/METADATA", b"Metadata-Version: 2.1\\nName: protobuf\\nVersion: 4.21.12\\n"))
entries.append((info + "/WHEEL", b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: false\\nTag: cp311-cp311-linux_x86_64\\n"))
record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()},{len(b)}\\n" for p, b in entries)
entries.append((info + "/RECORD", (record + info + "/RECORD,,\\n").encode()))
with zipfile.ZipFile(os.path.join(out, name), "w") as z:
    for p, b in entries:
        z.writestr(p, b)
print(name)
`;

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

    // The same binary without an ecosystem gets no import paths: a 422 that says how to declare one, not a 500.
    await cliOk(["plugin", "push", "acme/undeclared:v1.0.0", "--binary", binary], admin);
    await cliOk(
      [
        "template",
        "create",
        "acme/undeclared",
        "--config",
        '{"plugins":[{"owner":"acme","name":"undeclared"}]}',
      ],
      admin,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        "acme/undeclared",
        "--config",
        '{"plugin_versions":[{"owner":"acme","name":"undeclared","version":"v1.0.0"}]}',
      ],
      admin,
    );
    const refused = await fetch(`${server.url}/v1/acme/undeclared/latest/demo/money/main.tar.gz`);
    const why = await refused.text();
    assert.equal(refused.status, 422, why);
    assert.match(why, /unable to determine Go import path/);
    assert.match(why, /push it with 'protodepot plugin push … --ecosystem go'/);
  });

  it("serves a -sources.jar beside each jar, with its checksums, that mvn dependency:sources fetches", {
    skip: mavenMissing(),
  }, async () => {
    const base = `${server.url}/maven/protodepot/gen/protodepot_java_demo_money/1.1.1/protodepot_java_demo_money-1.1.1`;
    const project = await createMavenProject({
      dir: join(work, "maven"),
      repositoryUrl: `${server.url}/maven/`,
      dependencies: ["protodepot.gen:protodepot_java_demo_money:1.1.1"],
      sources: {},
    });
    await project.mvn(["dependency:sources"]);
    const fetched = join(
      project.dir,
      "local-repository/protodepot/gen/protodepot_java_demo_money/1.1.1/protodepot_java_demo_money-1.1.1-sources.jar",
    );
    const jar = await readFile(fetched);
    const listing = (
      await exec("/usr/bin/python3", [
        "-c",
        "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        fetched,
      ])
    ).stdout;
    assert.match(listing, /^META-INF\/MANIFEST\.MF$/m);
    assert.match(listing, /\.java$/m);
    assert.doesNotMatch(listing, /\.class$/m);
    const sha1 = await (await fetch(`${base}-sources.jar.sha1`)).text();
    const md5 = await (await fetch(`${base}-sources.jar.md5`)).text();
    assert.equal(sha1, createHash("sha1").update(jar).digest("hex"));
    assert.equal(md5, createHash("md5").update(jar).digest("hex"));
  });

  it("login --all writes what npm, pip and mvn then use to fetch a private module", {
    skip: mavenMissing() ?? pipSkip,
  }, async () => {
    const ledger = join(work, "ledger");
    await mkdir(join(ledger, "acme/ledger/v1"), { recursive: true });
    await writeFile(join(ledger, "buf.yaml"), "version: v1\nname: buf.build/acme/ledger\n");
    await writeFile(
      join(ledger, "acme/ledger/v1/ledger.proto"),
      'syntax = "proto3";\npackage acme.ledger.v1;\noption java_package = "com.acme.ledger.v1";\nmessage Entry { string id = 1; }\n',
    );
    await cliOk(["module", "create", "acme/ledger", "--visibility", "private"], admin);
    await cliOk(["push", ledger], admin);

    const home = join(work, "login-home");
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      PROTODEPOT_REMOTE: "",
      PROTODEPOT_TOKEN: "",
      // `npm test` hands its own user config to every script (npm_config_userconfig): login honours it as npm
      // does, so it would edit the runner's ~/.npmrc instead of this home's.
      npm_config_userconfig: "",
      NPM_CONFIG_USERCONFIG: "",
    };
    const login = await cliOk(["login", server.url, "--token-stdin", "--all"], env, { stdin: adminToken });
    for (const file of [".npmrc", ".netrc", ".config/pip/pip.conf", ".m2/settings.xml", ".yarnrc.yml"]) {
      assert.ok(login.stdout.includes(join(home, file)), `${file} not written:\n${login.stdout}`);
    }
    assert.match(
      await readFile(join(home, ".yarnrc.yml"), "utf8"),
      /npmPreapprovedPackages:\n {2}- "@protodepot\/\*"/,
    );

    // npm with the written ~/.npmrc (pack: the tarball alone, no runtime library from the public registry).
    const npm = await createNpmProject({ dir: join(work, "npm-app"), userconfig: join(home, ".npmrc") });
    const packed = await npm.npm(["pack", "@protodepot/protodepot_es_acme_ledger@1.1.1"]);
    assert.match(packed.stdout, /protodepot-protodepot_es_acme_ledger-1\.1\.1\.tgz/);

    // pip with the written pip.conf; the default index is a loopback stand-in for PyPI that has nothing.
    const empty = createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => empty.listen(0, "127.0.0.1", resolve));
    try {
      const venv = await createVenv(join(work, "pip-venv"));
      await exec(
        join(venv.dir, "bin/pip"),
        [
          "download",
          "--no-deps",
          "--no-cache-dir",
          "-d",
          join(work, "wheels"),
          "protodepot-python-acme-ledger==1.1.1",
        ],
        {
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: home,
            PIP_CONFIG_FILE: join(home, ".config/pip/pip.conf"),
            PIP_INDEX_URL: `http://127.0.0.1:${(empty.address() as AddressInfo).port}/simple/`,
            PIP_DISABLE_PIP_VERSION_CHECK: "1",
          },
        },
      );
      assert.ok(existsSync(join(work, "wheels/protodepot_python_acme_ledger-1.1.1-py3-none-any.whl")));
    } finally {
      await new Promise((resolve) => empty.close(resolve));
    }

    // mvn with the written ~/.m2/settings.xml (Maven's own plugins and protobuf-java from Debian's repository).
    const app = join(work, "mvn-app");
    await mkdir(app, { recursive: true });
    const debian = (tag: string) => `<${tag}><id>debian</id><url>file://${debianRepository}</url></${tag}>`;
    await writeFile(
      join(app, "pom.xml"),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>example</groupId><artifactId>app</artifactId><version>1.0</version>
<repositories>${debian("repository")}</repositories><pluginRepositories>${debian("pluginRepository")}</pluginRepositories>
<dependencies><dependency><groupId>protodepot.gen</groupId><artifactId>protodepot_java_acme_ledger</artifactId><version>1.1.1</version></dependency></dependencies></project>\n`,
    );
    await writeFile(join(work, "empty-global-settings.xml"), "<settings/>\n");
    await exec(
      "mvn",
      ["-B", "--no-transfer-progress", "-gs", join(work, "empty-global-settings.xml"), "dependency:resolve"],
      {
        cwd: app,
        // Maven finds ~ by Java's user.home (the passwd entry), not $HOME.
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          LANG: "C.UTF-8",
          MAVEN_OPTS: `-Duser.home=${home}`,
        },
        maxBuffer: 64 << 20,
      },
    ).catch((err: { stdout?: string }) => {
      throw new Error(
        `mvn dependency:resolve: ${err.stdout ?? ""}\n${readFileSync(join(home, ".m2/settings.xml"), "utf8")}`,
      );
    });
    assert.ok(
      existsSync(
        join(
          home,
          ".m2/repository/protodepot/gen/protodepot_java_acme_ledger/1.1.1/protodepot_java_acme_ledger-1.1.1.jar",
        ),
      ),
    );
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

describe("the first week with poetry", {
  skip: existsSync("/usr/bin/poetry") ? false : "apt-get install python3-poetry (.ci/apt/firstweek.txt)",
}, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let local: Server;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-first-week-poetry-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
    const admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "c"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], admin);
    await cliOk(["push", join(repoRoot, "examples/payments")], admin);
    // A second index on loopback with Debian's protobuf runtime: what PyPI would be for poetry.
    const wheel = (await exec("/usr/bin/python3", ["-c", debianProtobufWheel, work])).stdout.trim();
    const bytes = await readFile(join(work, wheel));
    const sha = createHash("sha256").update(bytes).digest("hex");
    local = createServer((req, res) => {
      if (req.url === "/simple/protobuf/") {
        res.setHeader("content-type", "text/html");
        res.end(`<html><body><a href="/files/${wheel}#sha256=${sha}">${wheel}</a></body></html>`);
      } else if (req.url === `/files/${wheel}`) res.end(bytes);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    await new Promise((resolve) => local?.close(resolve));
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("installs a module's wheel and its dependency module's from the index, asking it for protobuf too", async () => {
    const project = join(work, "app");
    await mkdir(project, { recursive: true });
    const localIndex = `http://127.0.0.1:${(local.address() as AddressInfo).port}/simple/`;
    await writeFile(
      join(project, "pyproject.toml"),
      `[tool.poetry]
name = "app"
version = "0.1.0"
description = ""
authors = ["a <a@example.com>"]

[tool.poetry.dependencies]
python = "^3.11"
protodepot-python-demo-payments = "*"

# Ours first for every name: it must answer 404 for protobuf, so poetry asks the next index.
[[tool.poetry.source]]
name = "protodepot"
url = "${server.url}/pypi/simple/"
default = true

[[tool.poetry.source]]
name = "local"
url = "${localIndex}"
secondary = true
`,
    );
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: join(work, "home"),
      POETRY_CACHE_DIR: join(work, "poetry-cache"),
      POETRY_CONFIG_DIR: join(work, "poetry-config"),
      POETRY_VIRTUALENVS_IN_PROJECT: "true",
      // No desktop keyring to ask for index credentials.
      PYTHON_KEYRING_BACKEND: "keyring.backends.null.Keyring",
    };
    const poetry = (args: string[]) =>
      exec("/usr/bin/poetry", args, { cwd: project, env, maxBuffer: 16 << 20 }).catch(
        (err: { stdout?: string; stderr?: string }) => {
          throw new Error(`poetry ${args.join(" ")}: ${err.stdout ?? ""}${err.stderr ?? ""}`);
        },
      );
    await poetry(["install", "--no-root", "--no-interaction"]);
    const lock = await readFile(join(project, "poetry.lock"), "utf8");
    assert.match(lock, /name = "protodepot-python-demo-money"\nversion = "1\.1\.1"/);
    assert.match(lock, /name = "protobuf"\nversion = "4\.21\.12"/);
    const run = await exec(
      join(project, ".venv/bin/python"),
      ["-c", "from demo.payments.v1 import payments_pb2; print(payments_pb2.Payment(id='p-1').id)"],
      { cwd: work },
    );
    assert.equal(run.stdout.trim(), "p-1");
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
