// A cluster end to end: two nodes (127.0.0.1 and 127.0.0.2) sharing one PostgreSQL and one RadosGW bucket.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { openRemote } from "../../src/cli/client.js";
import { ModuleService } from "../../src/gen/protodepot/v1/module_pb.js";
import {
  createTestBucket,
  createTestDatabase,
  pgVariable,
  s3Variable,
  skipWithout,
  testS3,
} from "../../src/storage/testing/services.js";
import { cliOk } from "./support/cli.js";
import { goHost, goOk, makeGoEnv, writeConsumer } from "./support/go.js";
import { pluginRuns } from "./support/metrics.js";
import { chainModule, moduleFiles } from "./support/modules.js";
import { createNpmProject } from "./support/npm-client.js";
import { childCommandLines } from "./support/processes.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const slowPlugin = join(repoRoot, "test/fixtures/plugins/slow-stamp.mjs");
const leaseTtlMs = 4000;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function fetchBytes(url: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("two nodes on postgres + s3", { skip: skipWithout(pgVariable) || skipWithout(s3Variable) }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let bucket: Awaited<ReturnType<typeof createTestBucket>>;
  let work: string;
  const dataDirs: Awaited<ReturnType<typeof makeDataDir>>[] = [];
  let env: Record<string, string>;
  let node1: TestServer;
  let node2: TestServer;

  const startNode = async (host: string, dataDir: string) =>
    startTestServer({ dataDir, env, args: ["--host", host], orgs: ["demo", "tests"] });
  const cli = (node: TestServer) => ({
    PROTODEPOT_REMOTE: node.url,
    PROTODEPOT_TOKEN: adminToken,
    XDG_CONFIG_HOME: join(work, "config"),
  });

  before(async () => {
    db = await createTestDatabase();
    bucket = await createTestBucket();
    work = await mkdtemp(join(tmpdir(), "protodepot-cluster-"));
    const s3 = testS3();
    env = {
      PROTODEPOT_STORAGE_META_DRIVER: "postgres",
      PROTODEPOT_STORAGE_META_POSTGRES_URL: db.url,
      PROTODEPOT_STORAGE_META_LEASE_TTL_MS: String(leaseTtlMs),
      // Far longer than any test: a write shows on the other node because it is told, never because a TTL ran out.
      PROTODEPOT_STORAGE_META_CACHE_TTL_MS: String(10 * 60_000),
      PROTODEPOT_STORAGE_BLOB_DRIVER: "s3",
      PROTODEPOT_STORAGE_BLOB_S3_ENDPOINT: s3.endpoint,
      PROTODEPOT_STORAGE_BLOB_S3_BUCKET: bucket.bucket,
      PROTODEPOT_STORAGE_BLOB_S3_PREFIX: "cluster/",
      PROTODEPOT_STORAGE_BLOB_S3_ACCESS_KEY_ID: s3.accessKeyId,
      PROTODEPOT_STORAGE_BLOB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    for (let i = 0; i < 2; i++) dataDirs.push(await makeDataDir("protodepot-node-"));
    node1 = await startNode("127.0.0.1", dataDirs[0]?.dir ?? "");
    node2 = await startNode("127.0.0.2", dataDirs[1]?.dir ?? "");
  });
  after(async () => {
    await node1?.stop();
    await node2?.stop();
    for (const d of dataDirs) await d.remove();
    await rm(work, { recursive: true, force: true });
    await bucket?.drop();
    await db?.drop();
  });

  it("serves a push through node 1 from node 2 at once", async () => {
    assert.match(node2.url, /^http:\/\/127\.0\.0\.2:/);
    for (const node of [node1, node2]) {
      const health = await fetch(`${node.url}/healthz`);
      assert.equal(health.status, 200, "the node reaches PostgreSQL and RadosGW");
    }
    const pushed = await cliOk(["push", join(repoRoot, "examples/money")], cli(node1));
    await cliOk(["push", join(repoRoot, "examples/payments")], cli(node1));
    const id = /[0-9a-f]{32}/.exec(pushed.stdout)?.[0];
    assert.ok(id, pushed.stdout);
    const client = (await openRemote({ remote: node2.url, token: adminToken }, {})).client(ModuleService);
    const head = await client.getCommit({ module: "demo/money", ref: "main" });
    assert.equal(head.commit?.id, id);
    const sources = await fetchBytes(`${node2.url}/demo/money/archive/main.tar.gz`);
    assert.equal(sources.status, 200);
    assert.deepEqual(sources.bytes, (await fetchBytes(`${node1.url}/demo/money/archive/main.tar.gz`)).bytes);
  });

  it("runs the plugin once for 200 concurrent first requests split over both nodes, with identical bytes", async () => {
    const before = (await pluginRuns(node1)) + (await pluginRuns(node2));
    const path = "/v1/protodepot/es/latest/demo/payments/main.include_imports.tar.gz";
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => fetchBytes(`${(i % 2 ? node2 : node1).url}${path}`)),
    );
    assert.ok(
      results.every((r) => r.status === 200),
      results.map((r) => r.status).join(","),
    );
    assert.equal(new Set(results.map((r) => sha256(r.bytes))).size, 1);
    assert.equal((await pluginRuns(node1)) + (await pluginRuns(node2)), before + 1);
  });

  it("installs with the real npm and go through node 2 what node 1 generated", async () => {
    // Node 1 generates every artifact the clients will ask for.
    const npmTarballs = ["money", "payments"].map(
      (m) => `/npm/@protodepot/protodepot_es_demo_${m}/-/protodepot_es_demo_${m}-1.1.1.tgz`,
    );
    const goZips = ["money", "payments"].map((m) => `/go/${goHost}/protodepot/go/demo/${m}/@v/v1.1.1.zip`);
    for (const path of [...npmTarballs, ...goZips]) {
      assert.equal((await fetchBytes(`${node1.url}${path}`)).status, 200, path);
    }
    const node2Runs = await pluginRuns(node2);

    const project = await createNpmProject({
      dir: join(work, "npm", "consumer"),
      registry: `${node2.url}/npm/`,
      scope: "protodepot",
      token: adminToken,
    });
    await project.npm(["install", "@protodepot/protodepot_es_demo_payments"]);
    const lock = JSON.parse(await readFile(join(project.dir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; resolved?: string }>;
    };
    const installed = lock.packages["node_modules/@protodepot/protodepot_es_demo_payments"];
    assert.equal(installed?.version, "1.1.1");
    assert.match(installed?.resolved ?? "", /^http:\/\/127\.0\.0\.2:/);
    assert.equal(lock.packages["node_modules/@protodepot/protodepot_es_demo_money"]?.version, "1.1.1");

    const consumer = join(work, "go", "consumer");
    const payments = `${goHost}/protodepot/go/demo/payments`;
    await writeConsumer(
      consumer,
      `package main\n\nimport (\n\t"fmt"\n\n\tpaymentsv1 "${payments}/demo/payments/v1"\n)\n\nfunc main() {\n\tfmt.Println(paymentsv1.Status_STATUS_SETTLED)\n}\n`,
    );
    const go = await makeGoEnv(join(work, "go"), node2.url);
    const inConsumer = { cwd: consumer, env: go.env };
    const got = await goOk(["get", `${payments}@latest`], inConsumer);
    assert.match(got.stderr, /added protodepot\.local\/protodepot\/go\/demo\/payments v1\.1\.1/);
    const run = await goOk(["run", "."], inConsumer);
    assert.equal(run.stdout.trim(), "STATUS_SETTLED");

    assert.equal(await pluginRuns(node2), node2Runs, "node 2 served node 1's artifacts without generating");
  });

  it("finishes on node 2 a slow generation whose node 1 was killed, once node 1's lease expires", async () => {
    await cliOk(["plugin", "create", "tests/slow"], cli(node1));
    await cliOk(
      ["plugin", "version", "create", "tests/slow", "v1.0.0", "--command", `${slowPlugin} slow 3000`],
      cli(node1),
    );
    await cliOk(
      ["template", "create", "tests/slow", "--config", '{"plugins":[{"owner":"tests","name":"slow"}]}'],
      cli(node1),
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        "tests/slow",
        "--config",
        "plugin_versions: [{owner: tests, name: slow, version: v1.0.0}]",
      ],
      cli(node1),
    );
    const path = "/v1/tests/slow/v1/demo/money/main.tar.gz";
    const abandoned = fetchBytes(`${node1.url}${path}`).catch((e: unknown) => e);

    // Wait until node 1 holds the lease, then kill it mid-generation.
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const deadline = Date.now() + 20_000;
      let held = false;
      while (!held && Date.now() < deadline) {
        const res = await sql.query("select 1 from leases where key like 'artifact:%' and expires_at > 0");
        held = (res.rowCount ?? 0) > 0;
        if (!held) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(held, "node 1 never took the lease");
    } finally {
      await sql.end();
    }
    await node1.kill();
    assert.ok((await abandoned) instanceof Error);

    const started = Date.now();
    const before = await pluginRuns(node2);
    const res = await fetchBytes(`${node2.url}${path}`);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 1000, "node 2 waited for node 1's lease instead of ignoring it");
    assert.equal(await pluginRuns(node2), before + 1);
    node1 = await startNode("127.0.0.1", dataDirs[0]?.dir ?? "");
    assert.deepEqual((await fetchBytes(`${node1.url}${path}`)).bytes, res.bytes);
  });

  it("leaves no visible partial commit after a SIGKILL mid-push", async () => {
    const client = (await openRemote({ remote: node1.url, token: adminToken }, {})).client(ModuleService);
    const first = await client.push({
      files: moduleFiles("demo/crash", {
        "crash/v1/f0.proto": chainModule("crash", 1)["crash/v1/f0.proto"] ?? "",
      }),
    });
    assert.equal(Number(first.commit?.seq), 1);
    const pending = client
      .push({ files: moduleFiles("demo/crash", chainModule("crash", 600)) })
      .catch((e: unknown) => e);
    // Kill once the server is compiling the push: its blobs may be written, its commit not yet.
    const pid = node1.child.pid ?? 0;
    const deadline = Date.now() + 20_000;
    let compiling = false;
    while (!compiling && Date.now() < deadline) {
      for (const cmd of await childCommandLines(pid)) if (cmd.includes("build")) compiling = true;
      if (!compiling) await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(compiling, "the compiler never started");
    await node1.kill();
    assert.ok((await pending) instanceof Error);

    const other = (await openRemote({ remote: node2.url, token: adminToken }, {})).client(ModuleService);
    const commits = await other.listCommits({ module: "demo/crash" });
    assert.deepEqual(
      commits.commits.map((c) => Number(c.seq)),
      [1],
    );
    assert.equal((await other.getCommit({ module: "demo/crash", ref: "main" })).commit?.id, first.commit?.id);
    node1 = await startNode("127.0.0.1", dataDirs[0]?.dir ?? "");
    const again = (await openRemote({ remote: node1.url, token: adminToken }, {})).client(ModuleService);
    const next = await again.push({ files: moduleFiles("demo/crash", chainModule("crash", 2)) });
    assert.equal(Number(next.commit?.seq), 2, "the seq the killed push never took is the next one");
  });

  it("shows a label moved through node 1 on node 2 at once, though node 2 had the old answer cached", async () => {
    // The suite's nodes keep mutable metadata for cacheTtlMs (10 minutes): only node 1's note can explain this.
    const dir = join(work, "money-2");
    await cp(join(repoRoot, "examples/money"), dir, { recursive: true });
    const proto = join(dir, "demo/money/v1/money.proto");
    await writeFile(proto, `${await readFile(proto, "utf8")}\n// the second commit\n`);
    const first = /[0-9a-f]{32}/.exec((await cliOk(["label", "list", "demo/money"], cli(node2))).stdout)?.[0];
    const second = /commit ([0-9a-f]{32})/.exec((await cliOk(["push", dir], cli(node1))).stdout)?.[1];
    assert.ok(first && second && first !== second);

    const archive = `${node2.url}/v1/protodepot/es/latest/demo/money/main.tar.gz`;
    const commitOf = async () => {
      const res = await fetch(archive);
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      return res.headers.get("x-protodepot-commit");
    };
    // Node 2 resolves, generates and keeps the head's answer, then serves it from memory.
    for (let i = 0; i < 3; i++) assert.equal(await commitOf(), second);
    await cliOk(["label", "move", "demo/money", "main", first], cli(node1));
    // Node 2's caches keep what they read for 10 minutes (env above): it shows the move only because it was told.
    const deadline = Date.now() + 60_000;
    while ((await commitOf()) !== first) {
      assert.ok(Date.now() < deadline, "node 2 was never told of the move");
      await new Promise((r) => setTimeout(r, 10));
    }
  });
});
