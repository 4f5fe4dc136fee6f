// "Use this module" end to end: a reader of a private module signs in with headless Chromium over plain http and
// over https, picks npm, Go, Python, Maven and Archive, reads the steps the page shows, and runs them as they are
// with the real clients (protodepot login, npm, go, pip, mvn, curl | tar) in fresh homes; no page holds a token. A
// template whose generation failed is no longer offered.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { browserMissing, launchChromium, withScreenshot } from "./support/browser.js";
import { goHost, makeGoEnv, writeConsumer } from "./support/go.js";
import { debianRepository, mavenMissing } from "./support/maven.js";
import { createVenv, pipMissing } from "./support/pip.js";
import {
  adminToken,
  callApi,
  cliPath,
  makeDataDir,
  startTestServer,
  type TestServer,
} from "./support/server.js";
import { makeSelfSignedCert, type SelfSignedCert } from "./support/tls.js";

const exec = promisify(execFile);
const b64 = (text: string) => Buffer.from(text).toString("base64");
const pipSkip = await pipMissing();
const mavenSkip = mavenMissing();

const shopFiles = [
  { path: "buf.yaml", content: b64("version: v1\nname: buf.build/acme/shop\n") },
  {
    path: "acme/shop/v1/shop.proto",
    content: b64(
      'syntax = "proto3";\npackage acme.shop.v1;\nimport "google/protobuf/timestamp.proto";\n// An order.\nmessage Order {\n  string id = 1;\n  int64 cents = 2;\n  google.protobuf.Timestamp placed = 3;\n}\n',
    ),
  },
];

interface Step {
  title: string;
  text: string;
}

/** Runs a script in bash (-e, pipefail) with `input` on stdin; throws with its output when it fails. */
function bash(script: string, opts: { cwd: string; env: Record<string, string>; input: string }) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], { cwd: opts.cwd, env: opts.env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`bash exited ${code}:\n${script}\n---\n${out}`));
    });
    child.stdin.end(opts.input);
  });
}

/** The system's CA certificates and the test server's, in one file (npm's `cafile` replaces its CA list). */
async function caBundle(cert: SelfSignedCert, dir: string): Promise<string> {
  const file = join(dir, "ca-bundle.pem");
  const system = await readFile("/etc/ssl/certs/ca-certificates.crt", "utf8");
  await writeFile(file, `${system}\n${await readFile(cert.certFile, "utf8")}`);
  return file;
}

for (const scheme of ["http", "https"] as const) {
  describe(`"Use this module" of a private module over ${scheme}`, { skip: browserMissing() }, () => {
    let data: Awaited<ReturnType<typeof makeDataDir>>;
    let server: TestServer;
    let work: string;
    let cert: SelfSignedCert | undefined;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let rita = "";

    before(async () => {
      data = await makeDataDir();
      work = await mkdtemp(join(tmpdir(), `protodepot-use-${scheme}-`));
      // Set up over plain http, then serve the same data over the scheme under test.
      const setup = await startTestServer({ dataDir: data.dir, orgs: ["acme"] });
      const ok = async (method: string, body: unknown) => {
        const res = await callApi(setup.url, method, body, adminToken);
        const text = await res.text();
        assert.equal(res.status, 200, `${method}: ${text}`);
        return JSON.parse(text) as Record<string, unknown>;
      };
      await ok("UserService/CreateUser", { name: "rita" });
      rita = (await ok("UserService/CreateToken", { user: "rita" })).token as string;
      await ok("OrganizationService/AddMember", { organization: "acme", user: "rita", role: "reader" });
      await ok("ModuleService/CreateModule", { module: "acme/shop", visibility: "private" });
      await ok("ModuleService/Push", { module: "acme/shop", files: shopFiles });
      // A template that makes npm packages (so it would be offered) with a plugin that always fails.
      await ok("PluginService/CreatePlugin", { plugin: "acme/failing", visibility: "public" });
      await ok("PluginService/CreatePluginVersion", {
        plugin: "acme/failing",
        version: "v1.0.0",
        command: ["/bin/false"],
        runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.0.0" }] },
      });
      await ok("TemplateService/CreateTemplate", {
        template: "acme/broken",
        visibility: "public",
        plugins: [{ owner: "acme", name: "failing", parameter: "" }],
      });
      await ok("TemplateService/CreateTemplateVersion", {
        template: "acme/broken",
        pluginVersions: [{ owner: "acme", name: "failing", version: "v1.0.0" }],
      });
      if (scheme === "https") {
        await setup.stop();
        cert = await makeSelfSignedCert(work);
        server = await startTestServer({
          dataDir: data.dir,
          args: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
        });
      } else {
        server = setup;
      }
      assert.match(server.url, new RegExp(`^${scheme}://127\\.0\\.0\\.1:\\d+$`));
      // `protodepot` on PATH, as an installed CLI would be.
      await mkdir(join(work, "bin"));
      await writeFile(
        join(work, "bin/protodepot"),
        `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`,
      );
      await chmod(join(work, "bin/protodepot"), 0o755);

      browser = await launchChromium();
      context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 900 } });
      page = await context.newPage();
      await page.goto(`${server.url}/login`);
      await page.getByLabel("Token").fill(rita);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${server.url}/`);
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
      await data?.remove();
      if (work) await rm(work, { recursive: true, force: true });
    });

    /** Opens the module page for one ecosystem and reads its steps; the page holds no token. */
    const stepsOf = async (use: string): Promise<Step[]> =>
      withScreenshot(page, `use-module-${scheme}-${use}`, async () => {
        await page.goto(`${server.url}/acme/shop?use=${use}`);
        const section = page.locator(`section.use-module[data-ecosystem="${use}"]`);
        assert.equal(await section.count(), 1, `the ${use} section`);
        const html = await page.content();
        for (const secret of [rita, adminToken, (await context.cookies())[0]?.value ?? "no-cookie"]) {
          assert.ok(!html.includes(secret), `the ${use} page shows a token`);
        }
        const items = section.locator("ol.steps > li");
        const steps: Step[] = [];
        for (let i = 0; i < (await items.count()); i++) {
          steps.push({
            title: (await items.nth(i).locator("h3").textContent()) ?? "",
            text: (await items.nth(i).locator("pre code").textContent()) ?? "",
          });
        }
        assert.ok(steps.length > 0, `no ${use} steps`);
        return steps;
      });
    /** The steps to run in a shell (login, read, install), joined into one script. */
    const script = (steps: readonly Step[], titles: readonly string[]) =>
      steps
        .filter((s) => titles.includes(s.title))
        .map((s) => s.text)
        .join("\n");
    const home = async (name: string) => {
      const dir = join(work, name);
      await mkdir(join(dir, "home"), { recursive: true });
      const env: Record<string, string> = {
        PATH: `${join(work, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: join(dir, "home"),
        LANG: "C.UTF-8",
        ...(cert
          ? {
              NODE_EXTRA_CA_CERTS: cert.certFile,
              SSL_CERT_FILE: cert.certFile,
              PIP_CERT: cert.certFile,
              CURL_CA_BUNDLE: cert.certFile,
            }
          : {}),
      };
      return { dir, cwd: dir, env, input: `${rita}\n` };
    };
    const signIn = ["Sign in once", "Read your token into a shell variable (no echo)"];

    it("offers the chosen ecosystem's templates only, built-in first, and no template whose generation failed", async () => {
      const options = async () => {
        const all = page.locator("section.use-module select#template option");
        const values: string[] = [];
        for (let i = 0; i < (await all.count()); i++)
          values.push((await all.nth(i).getAttribute("value")) ?? "");
        return values;
      };
      await page.goto(`${server.url}/acme/shop?use=npm`);
      const before = await options();
      assert.equal(before[0], "protodepot/es");
      assert.ok(before.includes("acme/broken"), before.join(", "));
      assert.equal(await page.locator("nav.ecosystems a").count(), 9);
      assert.equal(await page.locator('nav.ecosystems a[aria-current="page"]').innerText(), "npm / Yarn");
      // Code blocks scroll sideways rather than wrap mid-token.
      assert.equal(
        await page.evaluate("getComputedStyle(document.querySelector('section.use-module pre')).whiteSpace"),
        "pre",
      );
      // Only npm's steps are on the page: no go get, no pip, no curl.
      assert.doesNotMatch(await page.locator("main").innerText(), /go get|pip install|curl -fsS/);

      // Generating acme/broken for the module fails (the plugin exits 1)…
      const archive = `${server.url}/v1/acme/broken/v1/acme/shop/main.tar.gz`;
      const { stdout } = await exec("curl", [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        ...(cert ? ["--cacert", cert.certFile] : []),
        "-H",
        `Authorization: Bearer ${adminToken}`,
        archive,
      ]);
      assert.match(stdout, /^[45]\d\d$/);
      // …so it is offered no more, for npm nor for archives.
      await page.goto(`${server.url}/acme/shop?use=npm`);
      assert.ok(!(await options()).includes("acme/broken"));
      await page.goto(`${server.url}/acme/shop?use=archive`);
      assert.ok(!(await options()).includes("acme/broken"));

      // The template chooser is a plain GET form: choosing one shows its steps.
      await page.goto(`${server.url}/acme/shop?use=go`);
      await page.locator("select#template").selectOption("protodepot/go-grpc");
      await page.getByRole("button", { name: "Show" }).last().click();
      await page.waitForURL(/template=protodepot%2Fgo-grpc/);
      assert.match(
        await page.locator("section.use-module ol.steps").innerText(),
        /protodepot\/go-grpc\/acme\/shop/,
      );
    });

    it("installs with npm what the npm steps say", async () => {
      const steps = await stepsOf("npm");
      assert.match(steps[0]?.text ?? "", /^protodepot login \S+ --token-stdin --npmrc$/);
      const h = await home("npm");
      await writeFile(join(h.dir, "package.json"), '{ "name": "consumer", "private": true }\n');
      await bash(script(steps, [...signIn, "npm install"]), {
        ...h,
        env: {
          ...h.env,
          npm_config_cache: join(h.dir, "cache"),
          npm_config_audit: "false",
          // npm trusts its own CA list (`cafile`), not NODE_EXTRA_CA_CERTS: the system's and the server's.
          ...(cert ? { npm_config_cafile: await caBundle(cert, h.dir) } : {}),
        },
      });
      const pkg = join(h.dir, "node_modules/@protodepot/protodepot_es_acme_shop");
      const files = await readdir(pkg, { recursive: true });
      assert.ok(
        files.some((f) => String(f).endsWith("shop_pb.ts") || String(f).endsWith("shop_pb.js")),
        files.join(),
      );
    });

    it("downloads with go what the Go steps say", async () => {
      const steps = await stepsOf("go");
      assert.match(steps[0]?.text ?? "", /^protodepot login \S+ --token-stdin --netrc$/);
      const h = await home("go");
      const go = await makeGoEnv(join(h.dir, "go"), server.url);
      const consumer = join(h.dir, "consumer");
      await writeConsumer(consumer, "package main\n\nfunc main() {}\n");
      const { GOPROXY: _proxy, ...goEnv } = go.env;
      const titles = [...signIn, "Download the module with curl", "go get"];
      assert.equal(steps.filter((s) => titles.includes(s.title)).length, scheme === "http" ? 3 : 2);
      await bash(script(steps, titles), {
        ...h,
        cwd: consumer,
        env: { ...goEnv, ...h.env },
      });
      assert.match(
        await readFile(join(consumer, "go.mod"), "utf8"),
        new RegExp(`${goHost}/protodepot/go/acme/shop v1\\.1\\.1`),
      );
    });

    it("installs with pip what the Python steps say", { skip: pipSkip }, async () => {
      const steps = await stepsOf("python");
      const h = await home("python");
      const venv = await createVenv(join(h.dir, "venv"));
      await bash(script(steps, [...signIn, "pip install"]), {
        ...h,
        env: {
          ...h.env,
          PATH: `${join(venv.dir, "bin")}:${h.env.PATH}`,
          PIP_CONFIG_FILE: "/dev/null",
          PIP_DISABLE_PIP_VERSION_CHECK: "1",
        },
      });
      assert.equal(
        await venv.run("from acme.shop.v1 import shop_pb2; print(shop_pb2.Order(id='x').id)"),
        "x",
      );
    });

    it("resolves with mvn what the Maven steps say", { skip: mavenSkip }, async () => {
      const steps = await stepsOf("maven");
      const h = await home("maven");
      await bash(script(steps, signIn), h);
      const dependency = steps.find((s) => s.title === "pom.xml")?.text ?? "";
      await writeFile(
        join(h.dir, "pom.xml"),
        `<project xmlns="http://maven.apache.org/POM/4.0.0">\n<modelVersion>4.0.0</modelVersion>\n<groupId>example</groupId><artifactId>consumer</artifactId><version>1.0</version>\n<dependencies>\n${dependency}\n</dependencies>\n</project>\n`,
      );
      // Everything but this server comes from Debian's packaged repository, on disk.
      await writeFile(
        join(h.dir, "global-settings.xml"),
        `<settings>\n<localRepository>${join(h.dir, "local-repository")}</localRepository>\n<mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file://${debianRepository}</url></mirror></mirrors>\n</settings>\n`,
      );
      const env = { ...h.env };
      if (cert) {
        const store = join(h.dir, "truststore.p12");
        await exec("keytool", [
          "-importcert",
          "-noprompt",
          "-alias",
          "protodepot",
          "-file",
          cert.certFile,
          "-keystore",
          store,
          "-storetype",
          "PKCS12",
          "-storepass",
          "changeit",
        ]);
        env.MAVEN_OPTS = `-Djavax.net.ssl.trustStore=${store} -Djavax.net.ssl.trustStorePassword=changeit -Djavax.net.ssl.trustStoreType=PKCS12`;
      }
      const classpath = join(h.dir, "classpath.txt");
      await bash(
        `mvn -B --no-transfer-progress -s "$HOME/.m2/settings.xml" -gs global-settings.xml dependency:build-classpath -Dmdep.outputFile=${classpath}`,
        { ...h, env },
      );
      assert.match(await readFile(classpath, "utf8"), /protodepot_java_acme_shop-1\.1\.1\.jar/);
    });

    it("downloads and unpacks with curl what the Archive steps say", async () => {
      const steps = await stepsOf("archive");
      const curls = steps.filter((s) => s.text.startsWith("curl "));
      assert.equal(curls.length, 3);
      const h = await home("archive");
      await bash(script(steps, [...signIn, ...curls.map((s) => s.title)]), h);
      const files = (await readdir(h.dir, { recursive: true })).map(String);
      assert.ok(
        files.some((f) => f.startsWith("acme/shop/v1/")),
        files.join(", "),
      );
      // The last one brought the well-known types along.
      assert.ok(existsSync(join(h.dir, "google")), files.join(", "));
    });
  });
}
