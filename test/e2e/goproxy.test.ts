// The real `go` command against the Go module proxy, offline apart from our loopback server.
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { type GoEnv, goHost, goOk, makeGoEnv, runGo, writeConsumer } from "./support/go.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";
import { makeSelfSignedCert } from "./support/tls.js";

const payments = `${goHost}/protodepot/go/demo/payments`;
const money = `${goHost}/protodepot/go/demo/money`;

const program = `package main

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	moneyv1 "${money}/demo/money/v1"
	paymentsv1 "${payments}/demo/payments/v1"
)

func main() {
	p := &paymentsv1.Payment{
		Id:        "pay_1",
		Amount:    &moneyv1.Money{CurrencyCode: "EUR", Units: 12, Nanos: 500000000},
		CreatedAt: timestamppb.New(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)),
		Status:    paymentsv1.Status_STATUS_SETTLED,
	}
	b, err := proto.Marshal(p)
	if err != nil {
		panic(err)
	}
	var back paymentsv1.Payment
	if err := proto.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	out, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&back)
	if err != nil {
		panic(err)
	}
	fmt.Printf("equal=%v %s\\n", proto.Equal(p, &back), out)
}
`;

describe("Go module proxy with the real go command", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let go: GoEnv;
  let consumer: string;
  let cli: Record<string, string>;

  const start = async () => {
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
    cli = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    // The server's port changes on restart; the module cache and go.sum do not care.
    go = await makeGoEnv(join(work, "go"), server.url);
  };
  const inConsumer = {
    get cwd() {
      return consumer;
    },
    get env() {
      return go.env;
    },
  };
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/go/${path}`, { headers });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-goproxy-"));
    consumer = join(work, "consumer");
    await start();
    await cliOk(["push", join(repoRoot, "examples/money")], cli);
    await cliOk(["push", join(repoRoot, "examples/payments")], cli);
    await writeConsumer(consumer, program);
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("go get @latest, then build, vet and run a program using both generated modules and a well-known type", async () => {
    const got = await goOk(["get", `${payments}@latest`], inConsumer);
    assert.match(got.stderr, /added protodepot\.local\/protodepot\/go\/demo\/payments v1\.1\.1/);
    await goOk(["build", "./..."], inConsumer);
    await goOk(["vet", "./..."], inConsumer);
    const run = await goOk(["run", "."], inConsumer);
    assert.equal(
      run.stdout.replace(/\s+/g, ""),
      'equal=true{"id":"pay_1","amount":{"currency_code":"EUR","units":"12","nanos":500000000},"created_at":"2024-05-01T10:00:00Z","status":"STATUS_SETTLED"}',
    );
    // The dependency module came through the proxy too, as its own module at the dependency commit's version.
    const sum = await readFile(join(consumer, "go.sum"), "utf8");
    for (const m of [payments, money]) {
      assert.match(sum, new RegExp(`^${m} v1\\.1\\.1 h1:`, "m"));
      assert.match(sum, new RegExp(`^${m} v1\\.1\\.1/go.mod h1:`, "m"));
      await stat(join(go.env.GOMODCACHE ?? "", "cache/download", m, "@v/v1.1.1.zip"));
    }
  });

  it(".mod is the zip's go.mod, and requires the runtime library and the dependency's module", async () => {
    const mod = await get(`${payments}/@v/v1.1.1.mod`);
    assert.equal(mod.status, 200);
    assert.equal(
      mod.text,
      `module ${payments}\n\ngo 1.17\n\nrequire (\n\tgoogle.golang.org/protobuf v1.28.1\n\t${money} v1.1.1\n)\n`,
    );
    const extracted = join(go.env.GOMODCACHE ?? "", `${payments}@v1.1.1`);
    assert.equal(await readFile(join(extracted, "go.mod"), "utf8"), mod.text);
    const info = JSON.parse((await get(`${payments}/@v/v1.1.1.info`)).text) as {
      Version: string;
      Time: string;
    };
    assert.equal(info.Version, "v1.1.1");
    assert.ok(Date.parse(info.Time) > Date.now() - 3_600_000, `commit time, got ${info.Time}`);
  });

  it("go.sum survives a wipe of the server's cache: same zip bytes, go mod verify passes", async () => {
    const sumBefore = await readFile(join(consumer, "go.sum"), "utf8");
    const zipBefore = Buffer.from(
      await (await fetch(`${server.url}/go/${payments}/@v/v1.1.1.zip`)).arrayBuffer(),
    );
    await server.stop();
    assert.ok((await wipeArtifacts(data.dir)) > 0, "the go artifacts were cached before the wipe");
    await start();
    await goOk(["clean", "-modcache"], inConsumer);
    await goOk(["mod", "download"], inConsumer);
    await goOk(["mod", "verify"], inConsumer);
    await goOk(["build", "./..."], inConsumer);
    assert.equal(await readFile(join(consumer, "go.sum"), "utf8"), sumBefore);
    const zipAfter = Buffer.from(
      await (await fetch(`${server.url}/go/${payments}/@v/v1.1.1.zip`)).arrayBuffer(),
    );
    assert.ok(zipAfter.equals(zipBefore), "regenerated zip is byte-identical");
  });

  it("@v/list lists every synthetic version; a second template version appears as v1.2.x", async () => {
    // Asked twice, the list and @latest are answered from memory: the writes below must still show at once.
    for (let i = 0; i < 2; i++) {
      assert.equal((await get(`${payments}/@v/list`)).text, "v1.1.1\n");
      assert.equal(
        (JSON.parse((await get(`${payments}/@latest`)).text) as { Version: string }).Version,
        "v1.1.1",
      );
    }
    // A second commit of payments, then a second template version pinning another protoc-gen-go version.
    const copy = join(work, "payments-2");
    await cp(join(repoRoot, "examples/payments"), copy, { recursive: true });
    const proto = join(copy, "demo/payments/v1/payments.proto");
    await writeFile(
      proto,
      `${await readFile(proto, "utf8")}\nmessage Refund {\n  string payment_id = 1;\n}\n`,
    );
    await cliOk(["push", copy], cli);
    await cliOk(
      [
        "plugin",
        "version",
        "create",
        "protocolbuffers/go",
        "v1.28.2",
        "--command",
        "/usr/bin/protoc-gen-go",
        "--runtime-lib",
        "go:google.golang.org/protobuf@v1.28.1",
      ],
      cli,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        "protodepot/go",
        "--config",
        '{"plugin_versions":[{"owner":"protocolbuffers","name":"go","version":"v1.28.2"}]}',
      ],
      cli,
    );
    const list = await get(`${payments}/@v/list`);
    assert.equal(list.status, 200);
    assert.equal(list.text, "v1.1.1\nv1.1.2\nv1.2.1\nv1.2.2\n");
    const latest = JSON.parse((await get(`${payments}/@latest`)).text) as { Version: string };
    assert.equal(latest.Version, "v1.2.2");
    const versions = await goOk(["list", "-m", "-versions", payments], inConsumer);
    assert.equal(versions.stdout.trim(), `${payments} v1.1.1 v1.1.2 v1.2.1 v1.2.2`);
    // The new version builds too: the consumer moves to it with go get and the program still runs.
    await goOk(["get", `${payments}@v1.2.2`], inConsumer);
    const run = await goOk(["run", "."], inConsumer);
    assert.match(run.stdout, /^equal=true /);
    assert.match(await readFile(join(consumer, "go.mod"), "utf8"), /demo\/payments v1\.2\.2/);
  });

  it("go get @main, @{label} and @{commit id} resolve to the synthetic version of that commit", async () => {
    const commits = (await cliOk(["commit", "list", "demo/payments"], cli)).stdout;
    const first = /^1\s+([0-9a-f]{32})/m.exec(commits)?.[1] ?? "";
    assert.equal(first.length, 32);
    await cliOk(["label", "create", "demo/payments", "stable", first], cli);
    const cases: [query: string, version: string][] = [
      ["main", "v1.2.2"],
      ["stable", "v1.2.1"],
      [first, "v1.2.1"],
      [first.slice(0, 12), "v1.2.1"],
    ];
    for (const [query, version] of cases) {
      const listed = await goOk(["list", "-m", `${payments}@${query}`], inConsumer);
      assert.equal(listed.stdout.trim(), `${payments} ${version}`, query);
    }
    // A query answers with what it names today, so it must not be cached as if it were a version.
    const info = await get(`${payments}/@v/main.info`);
    assert.equal(info.headers.get("cache-control"), "no-cache");
    await goOk(["get", `${payments}@stable`], inConsumer);
    assert.match(await readFile(join(consumer, "go.mod"), "utf8"), /demo\/payments v1\.2\.1/);
  });

  it("the go-grpc template's module holds both outputs in one package and requires grpc", async () => {
    const module = `${goHost}/protodepot/go-grpc/demo/payments`;
    const res = await goOk(["mod", "download", "-json", `${module}@v1.1.1`], inConsumer);
    const { Dir: dir } = JSON.parse(res.stdout) as { Dir: string };
    const pb = await readFile(join(dir, "demo/payments/v1/payments.pb.go"), "utf8");
    const grpc = await readFile(join(dir, "demo/payments/v1/payments_grpc.pb.go"), "utf8");
    assert.match(pb, /^package paymentsv1$/m);
    assert.match(grpc, /^package paymentsv1$/m);
    assert.match(grpc, /PaymentServiceClient/);
    // The dependency's types are imported from the dependency's own module under the same template.
    assert.match(pb, new RegExp(`"${goHost}/protodepot/go-grpc/demo/money/demo/money/v1"`));
    const goMod = await readFile(join(dir, "go.mod"), "utf8");
    assert.match(goMod, /^\tgoogle\.golang\.org\/grpc v1\.33\.3$/m);
    assert.match(goMod, /^\tgoogle\.golang\.org\/protobuf v1\.28\.1$/m);
    assert.match(goMod, new RegExp(`^\\t${goHost}/protodepot/go-grpc/demo/money v1\\.1\\.1$`, "m"));
  });

  it("answers bad requests with the status go expects and a readable message", async () => {
    const cases: [path: string, status: number, message: RegExp][] = [
      [
        `${goHost}/protodepot/go/!demo/payments/@v/list`,
        404,
        /module paths are lowercase, try protodepot\.local\/protodepot\/go\/demo\/payments/,
      ],
      [`${goHost}/protodepot/go/Demo/payments/@v/list`, 404, /uppercase letters are written as !x/],
      [
        `example.com/protodepot/go/demo/payments/@v/list`,
        404,
        /this proxy serves protodepot\.local\/.*--go-host.*GOPROXY=http:\/\/HOST\/go,https:\/\/proxy\.golang\.org,direct/,
      ],
      [`${payments}/@v/nope!.info`, 400, /invalid escaped version/],
      [`${payments}/@v/no-such-label.info`, 404, /has no label or commit "no-such-label"/],
      [`${goHost}/protodepot/nope/demo/payments/@v/list`, 404, /template protodepot\/nope does not exist/],
      [`${goHost}/protodepot/go/demo/nope/@v/list`, 404, /module demo\/nope does not exist/],
      [`${goHost}/protodepot/go/demo/payments/@v/v1.1.99.info`, 404, /has no commit with sequence 99/],
      [`${goHost}/protodepot/go/demo/payments/@v/v1.9.1.mod`, 404, /has no version v9/],
      [
        `${goHost}/protodepot/go/demo/payments/@v/v2.0.0.zip`,
        404,
        /has no version v2\.0\.0: versions are v1\./,
      ],
      [
        `${goHost}/protodepot/go/demo/payments/@v/v1.x.1.info`,
        400,
        /invalid version "v1\.x\.1": expected v1\.\{template version\}\.\{commit sequence\}/,
      ],
      [`${goHost}/protodepot/go/demo/payments/@v/main.zip`, 400, /invalid version "main"/],
      // Prefixes go probes while looking for the module of a package path.
      [`${goHost}/protodepot/@v/list`, 404, /generated modules have paths/],
      [`${payments}/demo/payments/v1/@v/list`, 404, /generated modules have paths/],
      [`${payments}/@v/v1.1.1.tar`, 404, /unknown GOPROXY file/],
    ];
    for (const [path, status, message] of cases) {
      const res = await get(path);
      assert.equal(res.status, status, `${path}: ${res.text}`);
      assert.match(res.text, message, path);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    }
    // The go command shows the message and treats a 404 as "no such module".
    const missing = await runGo(["get", `${goHost}/protodepot/go/demo/nope@latest`], inConsumer);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /module demo\/nope does not exist/);
    // A package path resolves to its module through 404s on the longer prefixes.
    await goOk(["get", `${payments}/demo/payments/v1@v1.1.1`], inConsumer);
  });

  // go sends ~/.netrc credentials over https only (cmd/go/internal/web) and refuses credentials in an http GOPROXY,
  // so this asks a second server over the same data that serves TLS itself (serve --tls-cert/--tls-key).
  it("takes ~/.netrc Basic credentials (token as password) over https and rejects a wrong token with 401", async () => {
    const cert = await makeSelfSignedCert(work);
    const tls = await startTestServer({
      dataDir: data.dir,
      args: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
    });
    try {
      const env = { ...go.env, GOPROXY: `${tls.url}/go`, SSL_CERT_FILE: cert.certFile };
      const netrc = join(go.env.HOME ?? "", ".netrc");
      await writeFile(netrc, "machine 127.0.0.1 login go password wrong-token-0123456789\n", { mode: 0o600 });
      const denied = await runGo(["list", "-m", "-versions", payments], { cwd: consumer, env });
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /401 Unauthorized[\s\S]*invalid token/);
      await writeFile(netrc, `machine 127.0.0.1 login go password ${adminToken}\n`, { mode: 0o600 });
      const allowed = await goOk(["list", "-m", "-versions", payments], { cwd: consumer, env });
      assert.match(allowed.stdout, /v1\.2\.2/);
      await rm(netrc);
    } finally {
      await tls.stop();
    }
    const bearer = await get(`${payments}/@v/list`, { authorization: "Bearer nope-nope-nope-nope" });
    assert.equal(bearer.status, 401);
    assert.equal(bearer.headers.get("www-authenticate"), 'Basic realm="protodepot"');
  });
});
