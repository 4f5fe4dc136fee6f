// bench/scale: one node on sqlite + fs vs one node on postgres + s3 (RadosGW), side by side in one run: cold
// generation and cached artifact requests/s; and what a lease adds to a cold generation, measured on the stores.
// Needs PROTODEPOT_TEST_PG_URL and PROTODEPOT_TEST_S3_*: test/services/with-services.sh npm run bench:scale
import { execFile } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import autocannon from "autocannon";
import type { MetadataStore } from "../../src/storage/meta/metadata-store.js";
import { createPostgresMetadataStore } from "../../src/storage/meta/postgres/postgres-metadata-store.js";
import { createSqliteMetadataStore } from "../../src/storage/meta/sqlite/sqlite-metadata-store.js";
import { createTestBucket, createTestDatabase, testS3 } from "../../src/storage/testing/services.js";
import { cliPath, makeDataDir, repoRoot } from "../../test/e2e/support/server.js";
import { knob, median, pushPaymentsRound, smoke, startBenchServer } from "../support.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 7, 1);
const seconds = knob("BENCH_SECONDS", 10, 1);
const leaseRounds = knob("BENCH_LEASE_ROUNDS", 200, 5);
const requests = knob("BENCH_REQUESTS", 100, 10);
/** Short alternating runs per node for the cached requests/s, of `seconds` in all. */
const cachedRunCount = knob("BENCH_CACHED_RUNS", 5, 1);

function timeToFirstByte(url: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
      res.once("data", () => resolve(performance.now() - start));
      res.resume();
    })
      .on("error", reject)
      .end();
  });
}

/** Median ms of writing an artifact record without a lease vs with the lease steps withLease adds around it. */
async function leaseCost(store: MetadataStore): Promise<{ plain: number; leased: number }> {
  const user = await store.createUser({ name: "bench", isAdmin: true });
  const template = await store.createTemplate({
    owner: "bench",
    name: "t",
    visibility: "public",
    plugins: [],
  });
  const version = await store.createTemplateVersion(template.id, []);
  const plain: number[] = [];
  const leased: number[] = [];
  for (let i = 0; i < leaseRounds; i++) {
    const id = (n: number) => `${i.toString(16).padStart(8, "0")}${n}`.padEnd(32, "0");
    const { commit } = await store.insertCommit({
      owner: "bench",
      module: "m",
      id: id(1),
      digest: `sha256:${id(2)}`,
      sourcesBlob: "sha256/aa/x",
      imageBlob: "sha256/bb/x",
      createdBy: user.id,
      files: [],
      deps: [],
      label: "main",
    });
    const record = (scope: "module" | "imports") => ({
      templateId: template.id,
      templateVersion: version.number,
      commitId: commit.id,
      scope,
      flavour: "archive" as const,
      blob: "sha256/cc/x",
      digest: "sha256:x",
      size: 1,
      extra: {},
    });
    // Without a lease (withCache): look, then write the record.
    let start = performance.now();
    await store.getArtifact(record("module"));
    await store.putArtifact(record("module"));
    plain.push(performance.now() - start);
    // With a lease (withLease): look, take the lease, look again, then record + release in one transaction.
    start = performance.now();
    const r = record("imports");
    await store.getArtifact(r);
    const lease = await store.acquireLease(`artifact:${commit.id}`, "bench", 30_000);
    if (!lease) throw new Error("lease not free");
    await store.getArtifact(r);
    await store.transaction(async (tx) => {
      if (!(await tx.releaseLease(lease))) throw new Error("lease lost");
      return tx.putArtifact(r);
    });
    leased.push(performance.now() - start);
  }
  return { plain: median(plain), leased: median(leased) };
}

const db = await createTestDatabase();
const bucket = await createTestBucket();
const s3 = testS3();
// Each postgres + s3 node gets its own database and prefix: two on one database would be a cluster, and the
// second would find every round already generated.
const nocacheDb = await createTestDatabase();
const cluster = (url: string, prefix: string) => ({
  PROTODEPOT_STORAGE_META_DRIVER: "postgres",
  PROTODEPOT_STORAGE_META_POSTGRES_URL: url,
  PROTODEPOT_STORAGE_BLOB_DRIVER: "s3",
  PROTODEPOT_STORAGE_BLOB_S3_ENDPOINT: s3.endpoint,
  PROTODEPOT_STORAGE_BLOB_S3_BUCKET: bucket.bucket,
  PROTODEPOT_STORAGE_BLOB_S3_PREFIX: prefix,
  PROTODEPOT_STORAGE_BLOB_S3_ACCESS_KEY_ID: s3.accessKeyId,
  PROTODEPOT_STORAGE_BLOB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
});
const sides = [
  { name: "sqlite + fs", env: {} },
  { name: "postgres + s3", env: cluster(db.url, "cached/") },
  // The store itself, without the in-memory cache of small blobs in front of it.
  {
    name: "postgres + s3, no blob cache",
    env: { ...cluster(nocacheDb.url, "nocache/"), PROTODEPOT_STORAGE_BLOB_CACHE_BYTES: "0" },
  },
];
const benches = [];
try {
  for (const side of sides) {
    const bench = await startBenchServer(`scale-${benches.length}`, side.env);
    benches.push({ side, bench });
    await exec(process.execPath, [cliPath, "push", join(repoRoot, "examples/money")], { env: bench.env });
  }
  // The same rounds on both nodes, interleaved, so load from other work on the machine hits both alike.
  const cold = benches.map(() => [] as number[]);
  // Round 0 warms each node up, uncounted; the smoke run (numbers unread) skips it.
  for (let round = smoke ? 1 : 0; round <= rounds; round++) {
    for (const [i, { bench }] of benches.entries()) {
      const { commit } = await pushPaymentsRound(bench, round);
      const ms = await timeToFirstByte(
        `${bench.server.url}/v1/protodepot/es/v1/demo/payments/${commit}.tar.gz`,
      );
      if (round > 0) cold[i]?.push(ms);
    }
  }
  // Short runs, alternating between the nodes, so a burst of other load on the machine does not favour one side.
  const cachedRuns = benches.map(() => [] as number[]);
  const urls = benches.map(
    ({ bench }) => `${bench.server.url}/v1/protodepot/es/v1/demo/payments/main.tar.gz`,
  );
  for (const url of urls) await timeToFirstByte(url);
  for (let run = 0; run < cachedRunCount; run++) {
    for (const [i, url] of urls.entries()) {
      const result = await autocannon({ url, connections: 32, duration: seconds / cachedRunCount });
      if (result.non2xx || result.errors)
        throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      cachedRuns[i]?.push(result.requests.average);
    }
  }
  const cached = cachedRuns.map(median);
  // One request at a time: the work per request, which CPU contention from other processes skews less.
  const latencies = benches.map(() => [] as number[]);
  for (let i = 0; i < requests; i++) {
    for (const [j, url] of urls.entries()) {
      const start = performance.now();
      await fetch(url).then((r) => r.arrayBuffer());
      latencies[j]?.push(performance.now() - start);
    }
  }
  const latency = latencies.map(median);
  const coldMs = cold.map(median);
  const base = { cold: coldMs[0] ?? Number.NaN, rps: cached[0] ?? Number.NaN };
  console.log("one node each, protoc-gen-es target=ts on demo/payments, the same rounds interleaved:");
  console.log(`  cold generation, time to first byte, median of ${rounds}:`);
  for (const [i, { side }] of benches.entries()) {
    const ms = coldMs[i] ?? Number.NaN;
    console.log(
      `    ${side.name.padEnd(30)} ${ms.toFixed(0).padStart(5)} ms   ratio ${(ms / base.cold).toFixed(2)}`,
    );
  }
  console.log(`  cached artifact, one request at a time, median of ${requests}:`);
  for (const [i, { side }] of benches.entries()) {
    const ms = latency[i] ?? Number.NaN;
    const ratio = ms / (latency[0] ?? Number.NaN);
    console.log(`    ${side.name.padEnd(30)} ${ms.toFixed(1).padStart(5)} ms   ratio ${ratio.toFixed(2)}`);
  }
  console.log(
    `  cached artifact requests, 32 connections, median of ${cachedRunCount} alternating runs of ${seconds / cachedRunCount} s:`,
  );
  for (const [i, { side }] of benches.entries()) {
    const rps = cached[i] ?? Number.NaN;
    console.log(
      `    ${side.name.padEnd(30)} ${rps.toFixed(0).padStart(5)} req/s ratio ${(rps / base.rps).toFixed(2)}`,
    );
  }
} finally {
  for (const { bench } of benches) await bench.close();
}

console.log(`lease cost on a cold generation (store round trips withLease adds), median of ${leaseRounds}:`);
const scratch = await makeDataDir("protodepot-bench-lease-");
const leaseDb = await createTestDatabase();
const stores: [string, () => Promise<MetadataStore>][] = [
  ["sqlite", () => createSqliteMetadataStore({ path: join(scratch.dir, "meta.sqlite") })],
  ["postgres", () => createPostgresMetadataStore({ url: leaseDb.url, poolSize: 4 })],
];
for (const [name, open] of stores) {
  const store = await open();
  try {
    const { plain, leased } = await leaseCost(store);
    console.log(
      `  ${name.padEnd(9)} record only ${plain.toFixed(2)} ms, with lease ${leased.toFixed(2)} ms: +${(leased - plain).toFixed(2)} ms (goal <= 10 ms)`,
    );
  } finally {
    await store.close();
  }
}
await scratch.remove();
await leaseDb.drop();
await bucket.drop();
await db.drop();
await nocacheDb.drop();
