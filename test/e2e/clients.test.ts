// Clients: `protodepot login` writes the .npmrc and .netrc that the real npm and go then use, against the
// server's own TLS (`serve --tls-cert/--tls-key`), for a private module; without those lines they get 404.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cliOk, runCli } from "./support/cli.js";
import { type GoEnv, goHost, goOk, makeGoEnv, runGo, writeConsumer } from "./support/go.js";
import { moduleFiles } from "./support/modules.js";
import { createNpmProject } from "./support/npm-client.js";
import { adminToken, cliPath, makeDataDir, startTestServer, type TestServer } from "./support/server.js";
import { makeSelfSignedCert, type SelfSignedCert } from "./support/tls.js";

const exec = promisify(execFile);
// Debian's ca-certificates bundle: npm still reaches registry.npmjs.org for @bufbuild/protobuf.
const systemCas = "/etc/ssl/certs/ca-certificates.crt";

const moduleName = "admin/ledger";
const npmPackage = "@protodepot/protodepot_es_admin_ledger";
const goModule = `${goHost}/protodepot/go/admin/ledger`;
const ledgerProto = `syntax = "proto3";
package ledger.v1;

message Entry {
  string id = 1;
  int64 amount = 2;
}
`;

const goProgram = `package main

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	ledgerv1 "${goModule}/ledger/v1"
)

func main() {
	b, err := proto.Marshal(&ledgerv1.Entry{Id: "e-1", Amount: 42})
	if err != nil {
		panic(err)
	}
	var back ledgerv1.Entry
	if err := proto.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	fmt.Println(back.GetId(), back.GetAmount())
}
`;

const nodeProgram = `import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EntrySchema } from "${npmPackage}/ledger/v1/ledger_pb.js";
const back = fromBinary(EntrySchema, toBinary(EntrySchema, create(EntrySchema, { id: "e-1", amount: 42n })));
console.log(back.id + " " + String(back.amount));
`;

/** Every file and directory under `dir` with its permission bits. */
async function modes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out.set(path, (await stat(path)).mode & 0o777);
  }
  return out;
}

describe("clients set up by protodepot login, over the server's own TLS", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let work: string;
  let cert: SelfSignedCert;
  let server: TestServer;
  /** The user's environment: HOME (for ~/.netrc), the CLI's config, and trust in the self-signed certificate. */
  let user: Record<string, string>;
  let npmrc: string;
  /** npm trusts only its `cafile` when one is set: the system's authorities plus our certificate. */
  let npmEnv: Record<string, string>;
  let go: GoEnv;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-clients-"));
    cert = await makeSelfSignedCert(work);
    server = await startTestServer({
      dataDir: data.dir,
      args: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
    });
    const home = join(work, "home");
    await mkdir(home, { recursive: true });
    user = {
      HOME: home,
      XDG_CONFIG_HOME: join(work, "config"),
      NODE_EXTRA_CA_CERTS: cert.certFile,
      NETRC: "",
    };
    npmrc = join(work, "npm-userconfig");
    const dir = join(work, "ledger");
    for (const file of moduleFiles(moduleName, { "ledger/v1/ledger.proto": ledgerProto })) {
      await mkdir(join(dir, file.path, ".."), { recursive: true });
      await writeFile(join(dir, file.path), file.content);
    }
    const admin = { ...user, PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken };
    await cliOk(["push", dir, "--visibility", "private"], admin);
    const bundle = join(work, "ca-bundle.pem");
    await writeFile(bundle, `${await readFile(systemCas, "utf8")}\n${await readFile(cert.certFile, "utf8")}`);
    npmEnv = { npm_config_cafile: bundle };
    go = await makeGoEnv(join(work, "go"), server.url);
    go.env.HOME = home;
    go.env.SSL_CERT_FILE = cert.certFile;
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("serves https at the URL it prints; plain http on that port gets no answer", async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { stdout } = await exec("curl", ["-sS", "--cacert", cert.certFile, `${server.url}/healthz`]);
    assert.equal(JSON.parse(stdout).ok, true);
    const plain = await exec("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      server.url.replace("https:", "http:"),
    ])
      .then((r) => r.stdout)
      .catch((err: { stdout?: string }) => err.stdout ?? "");
    assert.notEqual(plain, "200");
  });

  it("refuses at start a certificate without its key, an unreadable key, and a key that is not PEM", async () => {
    const serve = (...tls: string[]) =>
      runCli(["serve", "--port", "0", "--data", join(work, "unused"), "--tls-cert", cert.certFile, ...tls]);
    const cases: [string[], RegExp][] = [
      [[], /server\.tls: set both server\.tls\.cert and server\.tls\.key/],
      [["--tls-key", join(work, "nope.key")], /server\.tls\.key: cannot read .*nope\.key \(ENOENT/],
      [["--tls-key", cert.certFile], /server\.tls: .* are not a PEM certificate and its private key/],
    ];
    for (const [args, message] of cases) {
      const res = await serve(...args);
      assert.equal(res.code, 1, args.join(" "));
      assert.match(res.stderr, message);
      assert.doesNotMatch(res.stdout, /serving at/);
    }
  });

  it("login --token-stdin --npmrc FILE --netrc writes both files, keeps unrelated lines, and a second run changes nothing", async () => {
    await writeFile(npmrc, "save-exact=true\n//registry.npmjs.org/:_authToken=npm_keep\n");
    await writeFile(join(user.HOME ?? "", ".netrc"), "machine github.com login me password gh_keep\n", {
      mode: 0o644,
    });
    const args = ["login", server.url, "--token-stdin", "--npmrc", npmrc, "--netrc"];
    const first = await cliOk(args, user, { stdin: `${adminToken}\n` });
    assert.match(first.stdout, /^logged in to https:\/\/127\.0\.0\.1:\d+ as admin$/m);
    assert.doesNotMatch(
      first.stderr,
      /warning/,
      "https, and no token on the command line: nothing to warn about",
    );
    const { host, hostname } = new URL(server.url);
    const wantNpmrc = [
      "save-exact=true",
      "//registry.npmjs.org/:_authToken=npm_keep",
      `@protodepot:registry=${server.url}/npm/`,
      `//${host}/npm/:_authToken=${adminToken}`,
      "",
    ].join("\n");
    const wantNetrc = [
      "machine github.com login me password gh_keep",
      `machine ${hostname} login admin password ${adminToken}`,
      `machine ${host} login admin password ${adminToken}`,
      "",
    ].join("\n");
    const netrc = join(user.HOME ?? "", ".netrc");
    assert.equal(await readFile(npmrc, "utf8"), wantNpmrc);
    assert.equal(await readFile(netrc, "utf8"), wantNetrc);
    assert.equal((await stat(netrc)).mode & 0o777, 0o600);
    assert.equal((await stat(npmrc)).mode & 0o777, 0o600);
    const second = await cliOk(args, user, { stdin: adminToken });
    assert.match(second.stdout, /already up to date: .*npm-userconfig/);
    assert.equal(await readFile(npmrc, "utf8"), wantNpmrc);
    assert.equal(await readFile(netrc, "utf8"), wantNetrc);
    // The stored login works for later commands, with no token anywhere on their command lines.
    const listed = await cliOk(["module", "list"], user);
    assert.match(listed.stdout, /admin\/ledger/);
  });

  it("login --token-stdin at a terminal prompts and does not echo the token", async () => {
    // util-linux `script` gives the CLI a pseudo-terminal; the token is typed once the prompt shows, as a person would.
    const child = spawn(
      "script",
      ["-q", "-e", "-c", `${process.execPath} ${cliPath} login ${server.url} --token-stdin`, "/dev/null"],
      { env: { ...process.env, ...user }, stdio: ["pipe", "pipe", "pipe"] },
    );
    let out = "";
    let typed = false;
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!typed && out.includes("token: ")) {
        typed = true;
        child.stdin.write(`${adminToken}\r`);
      }
    });
    assert.equal(await exited, 0, out);
    assert.match(out, /token: [\s\S]*logged in to https:\/\/127\.0\.0\.1:\d+ as admin/);
    assert.ok(!out.includes(adminToken), `the terminal showed the token: ${JSON.stringify(out)}`);
  });

  it("login --token still works but warns that the token lands in shell history; a wrong token is refused", async () => {
    const res = await cliOk(["login", server.url, "--token", adminToken], user);
    assert.match(res.stderr, /warning: a token on the command line ends up in shell history/);
    const wrong = await runCli(["login", server.url, "--token-stdin"], user, {
      stdin: "pd_wrong-token-0123456789",
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /invalid token/);
    // The read login --npmrc makes: open to anonymous callers here, a wrong token refused as everywhere.
    const info = (token?: string) =>
      exec("curl", [
        ...["-s", "-w", " %{http_code}", "--cacert", cert.certFile, "-X", "POST"],
        ...["-H", "content-type: application/json", "-d", "{}"],
        ...(token ? ["-H", `authorization: Bearer ${token}`] : []),
        `${server.url}/protodepot.v1.ServerService/GetServerInfo`,
      ]).then((r) => r.stdout);
    assert.equal(await info(), '{"npmScope":"protodepot","goHost":"protodepot.local"} 200');
    assert.match(await info("pd_wrong-token-0123456789"), / 401$/);
  });

  it("npm install of the private package fails with 404 without the token line", async () => {
    const anonymousRc = join(work, "npmrc-anonymous");
    await writeFile(anonymousRc, `@protodepot:registry=${server.url}/npm/\n`);
    const project = await createNpmProject({
      dir: join(work, "npm-anonymous", "project"),
      userconfig: anonymousRc,
      env: npmEnv,
    });
    const res = await project.tryNpm(["install", npmPackage]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /E404|404 Not Found/);
    // The same answer as for a package that does not exist.
    const packument = (name: string) =>
      exec("curl", [
        "-s",
        "-w",
        " %{http_code}",
        "--cacert",
        cert.certFile,
        `${server.url}/npm/${name.replace("/", "%2f")}`,
      ]);
    const hidden = (await packument(npmPackage)).stdout;
    const missing = (await packument("@protodepot/protodepot_es_admin_nothing")).stdout;
    assert.match(hidden, / 404$/);
    assert.equal(hidden.replace("ledger", "nothing"), missing);
  });

  it("npm install of the private package succeeds with the .npmrc login wrote, and the code runs", async () => {
    const project = await createNpmProject({
      dir: join(work, "npm-login", "project"),
      userconfig: npmrc,
      env: npmEnv,
    });
    await project.npm(["install", npmPackage]);
    const lock = JSON.parse(await readFile(join(project.dir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { resolved?: string }>;
    };
    assert.match(
      lock.packages[`node_modules/${npmPackage}`]?.resolved ?? "",
      /^https:\/\/127\.0\.0\.1:\d+\/npm\//,
    );
    await writeFile(join(project.dir, "run.mjs"), nodeProgram);
    const { stdout } = await exec(process.execPath, ["run.mjs"], { cwd: project.dir });
    assert.equal(stdout.trim(), "e-1 42");
  });

  it("go get of the private module fails without ~/.netrc, and with only a host:port entry", async () => {
    const bare = await makeGoEnv(join(work, "go-anonymous"), server.url);
    const env = { ...bare.env, SSL_CERT_FILE: cert.certFile };
    const consumer = join(work, "go-anonymous", "consumer");
    await writeConsumer(consumer, goProgram);
    const res = await runGo(["get", `${goModule}@latest`], { cwd: consumer, env });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /404 Not Found/);
    // go matches the host name without the port: an entry with the port (buf's) is not go's.
    const { host } = new URL(server.url);
    await writeFile(
      join(bare.env.HOME ?? "", ".netrc"),
      `machine ${host} login admin password ${adminToken}\n`,
      {
        mode: 0o600,
      },
    );
    const withPort = await runGo(["list", "-m", "-versions", goModule], { cwd: consumer, env });
    assert.notEqual(withPort.code, 0);
    assert.match(withPort.stderr, /404 Not Found/);
  });

  it("go get of the private module succeeds over https with the ~/.netrc login wrote, and the program runs", async () => {
    const consumer = join(work, "go-login", "consumer");
    await writeConsumer(consumer, goProgram);
    const opts = { cwd: consumer, env: go.env };
    const got = await goOk(["get", `${goModule}@latest`], opts);
    assert.match(got.stderr, new RegExp(`added ${goModule.replaceAll(".", "\\.")} v1\\.1\\.1`));
    const run = await goOk(["run", "."], opts);
    assert.equal(run.stdout.trim(), "e-1 42");
  });

  it("keeps every data file owner-only: 0600 files (metadata.sqlite, -wal, -shm, blobs), 0700 directories", async () => {
    const found = await modes(data.dir);
    const names = [...found.keys()].map((p) => p.slice(data.dir.length + 1));
    for (const expected of [
      "metadata.sqlite",
      "metadata.sqlite-wal",
      "metadata.sqlite-shm",
      "blobs",
      "blobs/tmp",
    ]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
    }
    assert.ok(found.size > 8, "modules, sources and generated artifacts were stored");
    for (const [path, mode] of found) {
      const isDir = (await stat(path)).isDirectory();
      assert.equal(mode, isDir ? 0o700 : 0o600, `${path} is ${mode.toString(8)}`);
    }
    assert.equal((await stat(data.dir)).mode & 0o777, 0o700);
  });
});
