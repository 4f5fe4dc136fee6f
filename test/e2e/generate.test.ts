// Remote generation end to end: through the archive registry, against local `buf generate`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { localGenerate, readTree } from "./support/local-buf.js";
import { pluginRuns } from "./support/metrics.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);
const esPlugin = join(repoRoot, "node_modules/.bin/protoc-gen-es");
const stampPlugin = join(repoRoot, "test/fixtures/plugins/stamp.mjs");

async function fetchBytes(url: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

describe("remote generation (archive registry)", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  const pushDemo = async () => {
    await cliOk(["push", join(repoRoot, "examples/money")], env);
    await cliOk(["push", join(repoRoot, "examples/payments")], env);
  };

  /** curl | tar xz into a fresh directory, the way a user fetches an archive. */
  const fetchTree = async (path: string) => {
    const out = await mkdtemp(join(work, "tree-"));
    await exec("sh", ["-c", `curl -fsS "${server.url}${path}" | tar xz -C "${out}"`]);
    return readTree(out);
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-gen-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "tests"] });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await pushDemo();
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  for (const scope of ["module", "imports", "imports_wkt"] as const) {
    const suffix = {
      module: ".tar.gz",
      imports: ".include_imports.tar.gz",
      imports_wkt: ".include_imports_and_wkt.tar.gz",
    }[scope];
    it(`protoc-gen-es output (${scope}) is identical to local buf generate`, async () => {
      const remote = await fetchTree(`/v1/protodepot/es/v1/demo/payments/main${suffix}`);
      const local = await localGenerate({ plugin: esPlugin, options: ["target=ts"], scope });
      assert.deepEqual([...remote.keys()], [...local.keys()]);
      assert.deepEqual(remote, local);
    });
  }

  it("scopes hold exactly the right files", async () => {
    const files = async (suffix: string) => [
      ...(await fetchTree(`/v1/protodepot/es/v1/demo/payments/main${suffix}`)).keys(),
    ];
    assert.deepEqual(await files(".tar.gz"), ["demo/payments/v1/payments_pb.ts"]);
    assert.deepEqual(await files(".include_imports.tar.gz"), [
      "demo/money/v1/money_pb.ts",
      "demo/payments/v1/payments_pb.ts",
    ]);
    assert.deepEqual(await files(".include_imports_and_wkt.tar.gz"), [
      "demo/money/v1/money_pb.ts",
      "demo/payments/v1/payments_pb.ts",
      "google/protobuf/timestamp_pb.ts",
    ]);
  });

  it("protoc-gen-go output is identical to local buf generate with the same import paths", async () => {
    const remote = await fetchTree("/v1/protodepot/go/v1/demo/payments/main.include_imports.tar.gz");
    const local = await localGenerate({
      plugin: "/usr/bin/protoc-gen-go",
      options: [
        "paths=source_relative",
        "Mdemo/payments/v1/payments.proto=protodepot.local/protodepot/go/demo/payments/demo/payments/v1;paymentsv1",
        "Mdemo/money/v1/money.proto=protodepot.local/protodepot/go/demo/money/demo/money/v1;moneyv1",
      ],
      scope: "imports",
    });
    assert.deepEqual([...remote.keys()], ["demo/money/v1/money.pb.go", "demo/payments/v1/payments.pb.go"]);
    assert.deepEqual(remote, local);
    const payments = remote.get("demo/payments/v1/payments.pb.go") ?? "";
    assert.match(payments, /^package paymentsv1$/m);
    assert.match(payments, /"protodepot\.local\/protodepot\/go\/demo\/money\/demo\/money\/v1"/);
  });

  it("protodepot/python (python + pyi) is identical to local buf generate with protoc's built-ins", async () => {
    const remote = await fetchTree("/v1/protodepot/python/v1/demo/payments/main.include_imports.tar.gz");
    const local = new Map([
      ...(await localGenerate({ plugin: { protocBuiltin: "python" }, options: [], scope: "imports" })),
      ...(await localGenerate({ plugin: { protocBuiltin: "pyi" }, options: [], scope: "imports" })),
    ]);
    assert.deepEqual(
      [...remote.keys()],
      [
        "demo/money/v1/money_pb2.py",
        "demo/money/v1/money_pb2.pyi",
        "demo/payments/v1/payments_pb2.py",
        "demo/payments/v1/payments_pb2.pyi",
      ],
    );
    assert.deepEqual(remote, new Map([...local].sort(([a], [b]) => (a < b ? -1 : 1))));
  });

  it("protodepot/java is identical to local buf generate with protoc's java built-in", async () => {
    const remote = await fetchTree("/v1/protodepot/java/v1/demo/payments/main.tar.gz");
    const local = await localGenerate({ plugin: { protocBuiltin: "java" }, options: [], scope: "module" });
    assert.ok(remote.size > 0);
    assert.ok([...remote.keys()].every((k) => k.endsWith(".java")));
    assert.deepEqual(remote, local);
  });

  it("lists protoc's built-ins as plugins with the protoc version and their runtime libraries", async () => {
    const { stdout } = await exec("protoc", ["--version"]);
    const protoc = stdout.trim().split(" ").pop() ?? "";
    const rows = async (plugin: string) =>
      (await cliOk(["plugin", "version", "list", plugin], env)).stdout.split("\n").slice(1).join("\n");
    const python = await rows("protocolbuffers/python");
    assert.ok(python.startsWith(`v${protoc} `), python);
    assert.ok(python.includes(`protoc ${protoc} --python_out`), python);
    assert.ok(python.includes("python:protobuf@>=3.20"), python);
    const java = await rows("protocolbuffers/java");
    assert.ok(java.includes(`maven:com.google.protobuf:protobuf-java@${protoc}`), java);
  });

  it("serves headers: synthetic version, etag, file name, immutable caching only for commit ids", async () => {
    const byLabel = await fetchBytes(`${server.url}/v1/protodepot/es/v1/demo/payments/main.tar.gz`);
    assert.equal(byLabel.status, 200);
    assert.equal(byLabel.headers.get("x-protodepot-version"), "v1.1.1");
    assert.match(byLabel.headers.get("etag") ?? "", /^"sha256:[0-9a-f]{64}"$/);
    assert.match(
      byLabel.headers.get("content-disposition") ?? "",
      /filename="protodepot-es-demo-payments-v1\.1\.1\.tar\.gz"/,
    );
    assert.equal(byLabel.headers.get("cache-control"), "no-cache");
    const commit = byLabel.headers.get("x-protodepot-commit") ?? "";
    const byCommit = await fetchBytes(`${server.url}/v1/protodepot/es/v1/demo/payments/${commit}.tar.gz`);
    assert.equal(byCommit.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.deepEqual(byCommit.bytes, byLabel.bytes);
    // With a token the answer is private: a shared cache must not hand it to the next caller of the URL.
    const withToken = await fetch(`${server.url}/v1/protodepot/es/v1/demo/payments/${commit}.tar.gz`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(withToken.status, 200);
    assert.equal(withToken.headers.get("cache-control"), "private, max-age=31536000, immutable");
    const notModified = await fetch(`${server.url}/v1/protodepot/es/v1/demo/payments/main.tar.gz`, {
      headers: { "if-none-match": byLabel.headers.get("etag") ?? "" },
    });
    assert.equal(notModified.status, 304);
  });

  it("says which part was not found", async () => {
    const cases: [string, RegExp][] = [
      ["/v1/nobody/es/v1/demo/payments/main.tar.gz", /template nobody\/es does not exist/],
      ["/v1/protodepot/es/v9/demo/payments/main.tar.gz", /template protodepot\/es has no version v9/],
      ["/v1/protodepot/es/v1/demo/nothing/main.tar.gz", /module demo\/nothing does not exist/],
      [
        "/v1/protodepot/es/v1/demo/payments/mian.tar.gz",
        /module demo\/payments has no label or commit "mian" \(labels: main;/,
      ],
    ];
    for (const [path, message] of cases) {
      const res = await fetchBytes(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(res.bytes.toString(), message);
    }
    const bad = await fetchBytes(`${server.url}/v1/protodepot/es/v1/demo/payments/main.tar.bz2`);
    assert.equal(bad.status, 400);
  });

  it("gives identical bytes after a cache wipe and on another data dir", async () => {
    const path = "/v1/protodepot/es/v1/demo/payments/main.include_imports_and_wkt.tar.gz";
    const first = await fetchBytes(`${server.url}${path}`);
    await server.stop();
    assert.ok((await wipeArtifacts(data.dir)) > 0);
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "tests"] });
    env.PROTODEPOT_REMOTE = server.url;
    const runs = await pluginRuns(server);
    const again = await fetchBytes(`${server.url}${path}`);
    assert.equal(await pluginRuns(server), runs + 1, "the wipe forced a new plugin run");
    assert.deepEqual(again.bytes, first.bytes);

    const other = await makeDataDir();
    const second = await startTestServer({ dataDir: other.dir, orgs: ["demo", "tests"] });
    try {
      const otherEnv = { ...env, PROTODEPOT_REMOTE: second.url };
      await cliOk(["push", join(repoRoot, "examples/money")], otherEnv);
      await cliOk(["push", join(repoRoot, "examples/payments")], otherEnv);
      const elsewhere = await fetchBytes(`${second.url}${path}`);
      assert.deepEqual(elsewhere.bytes, first.bytes);
    } finally {
      await second.stop();
      await other.remove();
    }
  });

  it("runs the plugin once for 50 concurrent first requests, and all get the same bytes", async () => {
    const before = await pluginRuns(server);
    const path = `${server.url}/v1/protodepot/es/v1/demo/money/main.include_imports_and_wkt.tar.gz`;
    const results = await Promise.all(Array.from({ length: 50 }, () => fetchBytes(path)));
    assert.ok(results.every((r) => r.status === 200));
    const first = results[0]?.bytes;
    assert.ok(results.every((r) => first && r.bytes.equals(first)));
    assert.equal(await pluginRuns(server), before + 1);
  });

  it("serves a new template version's output as v1.2.x while v1.1.x keeps its bytes", async () => {
    await cliOk(["plugin", "create", "tests/stamp"], env);
    for (const v of ["1", "2"]) {
      await cliOk(
        ["plugin", "version", "create", "tests/stamp", `v${v}.0.0`, "--command", `${stampPlugin} ${v}`],
        env,
      );
    }
    await cliOk(
      [
        "template",
        "create",
        "tests/stamp",
        "--config",
        '{"plugins":[{"owner":"tests","name":"stamp","parameter":"p=1"}]}',
      ],
      env,
    );
    const v1 = await cliOk(
      [
        "template",
        "version",
        "create",
        "tests/stamp",
        "--config",
        "plugin_versions: [{owner: tests, name: stamp, version: v1.0.0}]",
      ],
      env,
    );
    assert.equal(v1.stdout.trim(), "v1");
    const old = await fetchBytes(`${server.url}/v1/tests/stamp/v1/demo/money/main.tar.gz`);
    assert.equal(old.headers.get("x-protodepot-version"), "v1.1.1");
    const v2 = await cliOk(
      [
        "template",
        "version",
        "create",
        "tests/stamp",
        "--config",
        '{"plugin_versions":[{"owner":"tests","name":"stamp","version":"v2.0.0"}]}',
      ],
      env,
    );
    assert.equal(v2.stdout.trim(), "v2");

    const fresh = await fetchTree("/v1/tests/stamp/v2/demo/money/main.tar.gz");
    assert.equal(
      fresh.get("demo/money/v1/money.stamp.txt"),
      "demo/money/v1/money.proto stamped 2 parameter=p=1\n",
    );
    const latest = await fetchBytes(`${server.url}/v1/tests/stamp/latest/demo/money/main.tar.gz`);
    assert.equal(latest.headers.get("x-protodepot-version"), "v1.2.1");
    const stillOld = await fetchBytes(`${server.url}/v1/tests/stamp/v1/demo/money/main.tar.gz`);
    assert.deepEqual(stillOld.bytes, old.bytes);
    assert.equal(stillOld.headers.get("x-protodepot-version"), "v1.1.1");
  });
});
