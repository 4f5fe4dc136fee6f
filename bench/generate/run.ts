// bench/generate: cold remote generation vs local `buf generate`, and cached archive downloads under load.
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import autocannon from "autocannon";
import { cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { knob, median, pushPaymentsRound, startBenchServer } from "../support.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 7, 1);
const seconds = knob("BENCH_SECONDS", 10, 1);
const buf = join(repoRoot, "node_modules/.bin/buf");
const esPlugin = join(repoRoot, "node_modules/.bin/protoc-gen-es");

/** Milliseconds until the first byte of the response body arrives. */
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

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

const bench = await startBenchServer("gen");
const { server, work, env } = bench;
try {
  await exec(process.execPath, [cliPath, "push", join(repoRoot, "examples/money")], { env });
  // A local buf workspace with the same two modules and the same plugin and parameter.
  const ws = join(work, "ws");
  for (const m of ["money", "payments"]) {
    await mkdir(join(ws, m), { recursive: true });
    await cp(join(repoRoot, "examples", m, "demo"), join(ws, m, "demo"), { recursive: true });
  }
  await writeFile(join(ws, "buf.yaml"), "version: v2\nmodules:\n  - path: money\n  - path: payments\n");
  await writeFile(
    join(ws, "buf.gen.yaml"),
    `version: v2\nplugins:\n  - local: ${esPlugin}\n    out: out\n    opt: [target=ts]\n`,
  );

  const remote: number[] = [];
  const local: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const { proto, commit } = await pushPaymentsRound(bench, round);
    const r = await timeToFirstByte(`${server.url}/v1/protodepot/es/v1/demo/payments/${commit}.tar.gz`);
    await cp(proto, join(ws, "payments/demo/payments/v1/payments.proto"));
    const start = performance.now();
    await exec(buf, ["generate", "payments"], { cwd: ws });
    const l = performance.now() - start;
    // Round 0 warms both sides (plugin and buf binaries in the page cache).
    if (round > 0) {
      remote.push(r);
      local.push(l);
    }
  }
  console.log(`cold generation, ${rounds} rounds (protoc-gen-es target=ts, demo/payments):`);
  console.log(`  remote time to first byte  median ${median(remote).toFixed(0)} ms`);
  console.log(`  local buf generate         median ${median(local).toFixed(0)} ms`);
  console.log(`  ratio remote / local: ${(median(remote) / median(local)).toFixed(2)} (goal <= 0.8)`);

  const url = `${server.url}/v1/protodepot/es/v1/demo/payments/main.tar.gz`;
  await timeToFirstByte(url);
  const pid = server.child.pid ?? 0;
  const before = await rssKiB(pid);
  const result = await autocannon({ url, connections: 64, duration: seconds });
  const afterRss = await rssKiB(pid);
  console.log(`cached archive download, 64 connections, ${seconds} s:`);
  console.log(
    `  ${result.requests.average.toFixed(0)} req/s average, p99 latency ${result.latency.p99} ms, ${result.non2xx} non-2xx, ${result.errors} errors`,
  );
  console.log(
    `  server RSS ${(before / 1024).toFixed(0)} MiB before, ${(afterRss / 1024).toFixed(0)} MiB after`,
  );
} finally {
  await bench.close();
}
