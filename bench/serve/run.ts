// bench/serve: cached artifacts (archive, npm tarball, Go zip) requests/s, protodepot vs nginx serving the very same
// bytes as static files, with wrk, in one run; protodepot with 1 worker and with N, nginx likewise; and 1 worker with
// and without verify-on-read (storage.blob.verifyReads), alternated; and 1 worker with rate limits off, counted in
// memory, and shared through the metadata store (rateLimits.shared), alternated. BENCH_VERIFY_ONLY=1 and
// BENCH_RATE_ONLY=1 run only that comparison.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { adminToken, cliPath, makeDataDir, startTestServer } from "../../test/e2e/support/server.js";
import { startNginx } from "../nginx.js";
import { knob, median, smoke } from "../support.js";
import { type RateVariant, rateVariants, targets } from "./downloads.js";

const exec = promisify(execFile);
const seconds = knob("BENCH_SECONDS", 8, 1);
const connections = knob("BENCH_CONNECTIONS", 64, 8);
const many = knob("BENCH_WORKERS", availableParallelism(), 2);

/**
 * What the smoke run (numbers unread) measures outside the rate-limit comparison: one target, so each comparison
 * still runs and prints its ratios while each wrk run, 1 s at the least, is paid once instead of three times.
 */
const measured = smoke ? targets.slice(0, 1) : targets;
/** Requests/s wrk measures for one URL (one thread, `connections` connections); fails on any non-2xx answer. */
async function wrk(url: string): Promise<number> {
  return (await wrkRun(url, seconds)).rate;
}

async function wrkRun(url: string, duration: number): Promise<{ rate: number; requests: number }> {
  const { stdout } = await exec("wrk", ["-t1", `-c${connections}`, `-d${duration}s`, url]);
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`wrk saw errors for ${url}:\n${stdout}`);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const n = /(\d+) requests in/.exec(stdout);
  if (!m?.[1] || !n?.[1]) throw new Error(`wrk printed no rate:\n${stdout}`);
  return { rate: Number(m[1]), requests: Number(n[1]) };
}

/**
 * CPU seconds (user + system) the process `pid` and its descendants have used (Linux /proc). Per request, this
 * is what a feature costs the server whatever else the machine is doing, unlike requests/s on a shared machine.
 */
async function cpuSecondsOfTree(pid: number): Promise<number> {
  const ticks = 100; // USER_HZ: 100 on Linux
  let total = 0;
  const pending = [pid];
  while (pending.length) {
    const p = pending.pop() as number;
    try {
      const stat = await readFile(`/proc/${p}/stat`, "utf8");
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
      for (const task of await readdir(`/proc/${p}/task`)) {
        const children = await readFile(`/proc/${p}/task/${task}/children`, "utf8").catch(() => "");
        for (const c of children.split(" ")) if (c.trim()) pending.push(Number(c));
      }
    } catch {
      // A process that ended meanwhile.
    }
  }
  return total;
}

const data = await makeDataDir("protodepot-bench-serve-data-");
const root = await mkdtemp(join(tmpdir(), "protodepot-bench-serve-root-"));
const servers: { stop(): Promise<void> }[] = [];
const rows: { label: string; rates: Record<string, number> }[] = [];
try {
  // Seed once with one worker: two modules, then one request of each target so every artifact is cached.
  let server = await startTestServer({ dataDir: data.dir, orgs: ["demo"], args: ["--workers", "1"] });
  servers.push(server);
  const env = { ...process.env, PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken };
  for (const m of ["money", "payments"])
    await exec(process.execPath, [cliPath, "push", `examples/${m}`], { env });
  for (const t of targets) {
    const res = await fetch(server.url + t.path);
    if (res.status !== 200) throw new Error(`${t.path}: HTTP ${res.status} ${await res.text()}`);
    const file = join(root, t.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, new Uint8Array(await res.arrayBuffer()));
  }
  await writeFile(join(root, "healthz"), '{"ok":true}');
  // nginx's workers run as nobody; mkdtemp made the root private.
  await exec("chmod", ["-R", "a+rX", root]);

  const measure = async (label: string, base: string, withHealth: boolean) => {
    const rates: Record<string, number> = {};
    for (const t of measured) rates[t.name] = await wrk(base + t.path);
    if (withHealth) rates["/healthz"] = await wrk(`${base}/healthz`);
    rows.push({ label, rates });
    process.stdout.write(`${label}: ${JSON.stringify(rates)}\n`);
  };

  await measure("protodepot, 1 worker", server.url, true);
  await server.stop();

  // Verify-on-read: alternated, so a busy machine's drift hits both sides alike. Each start reads the blobs anew.
  // Cached: a small blob is hashed once, when the content cache keeps it. Streamed (nothing kept in memory, as for
  // artifacts over storage.blob.cacheItemBytes): every request hashes the whole blob.
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // The smoke run (numbers unread) takes one mode in one order: each server start here costs seconds.
  const verifyModes = smoke ? (["cached"] as const) : (["cached", "streamed"] as const);
  for (const mode of process.env.BENCH_RATE_ONLY ? [] : verifyModes) {
    const verifyRates = { on: [] as number[], off: [] as number[] };
    // Both orders, so a drift in the machine's load favours neither.
    const orders = [
      ["off", "on"],
      ["on", "off"],
    ];
    for (const order of smoke ? orders.slice(0, 1) : orders) {
      for (const verify of order) {
        server = await startTestServer({
          dataDir: data.dir,
          args: ["--workers", "1"],
          env: {
            PROTODEPOT_STORAGE_BLOB_VERIFY_READS: verify === "on" ? "true" : "false",
            ...(mode === "streamed" ? { PROTODEPOT_STORAGE_BLOB_CACHE_ITEM_BYTES: "1" } : {}),
          },
        });
        servers.push(server);
        for (const t of measured)
          (verify === "on" ? verifyRates.on : verifyRates.off).push(await wrk(server.url + t.path));
        await server.stop();
      }
    }
    console.log(
      `verify-on-read, 1 worker, ${mode} downloads (${measured.length} targets × ${smoke ? 1 : 2} rounds, requests/s summed): ` +
        `on ${sum(verifyRates.on).toFixed(0)}, off ${sum(verifyRates.off).toFixed(0)}, ` +
        `cost ${((1 - sum(verifyRates.on) / sum(verifyRates.off)) * 100).toFixed(1)} %${mode === "cached" ? " (goal ≤ 5 %)" : ""}`,
    );
  }
  if (!process.env.BENCH_VERIFY_ONLY) await compareRateLimits();
  if (!process.env.BENCH_VERIFY_ONLY && !process.env.BENCH_RATE_ONLY) await compareWithNginx();

  // Rate limits on the hot path: limits far above what wrk sends (no 429), so only the counting is measured.
  // "kept": repeat downloads answered from memory before routing (the default), each counted before it is sent.
  // "routed": no answers kept (storage.meta.cacheTtlMs 0, which also turns the metadata caches off), so every
  // download passes the limiter's hook. The three servers run side by side and take turns in short bursts, in an
  // order that alternates, so a change in the machine's load hits all three alike; each rotation gives a cost, and
  // the median of them is the result. Requests/s and the servers' own CPU time per request are both reported.
  async function compareRateLimits() {
    const variants = rateVariants;
    type Variant = RateVariant;
    const names = Object.keys(variants) as Variant[];
    const rotations = knob("BENCH_RATE_ROUNDS", 6, 1);
    const burst = knob("BENCH_RATE_SECONDS", 2, 1);
    for (const mode of smoke ? (["routed"] as const) : (["kept", "routed"] as const)) {
      const started = {} as Record<Variant, Awaited<ReturnType<typeof startTestServer>>>;
      for (const v of names) {
        started[v] = await startTestServer({
          dataDir: data.dir,
          args: ["--workers", "1"],
          env: {
            ...variants[v],
            ...(mode === "routed" ? { PROTODEPOT_STORAGE_META_CACHE_TTL_MS: "0" } : {}),
          },
        });
        servers.push(started[v]);
        for (const t of targets) await (await fetch(started[v].url + t.path)).arrayBuffer();
      }
      const rateCosts: Record<"memory" | "shared", number[]> = { memory: [], shared: [] };
      const cpuCosts: Record<"memory" | "shared", number[]> = { memory: [], shared: [] };
      const sums = Object.fromEntries(names.map((v) => [v, { rate: 0, cpu: 0, requests: 0 }])) as Record<
        Variant,
        { rate: number; cpu: number; requests: number }
      >;
      for (let r = 0; r < rotations; r++) {
        const turn = Object.fromEntries(
          names.map((v) => [v, { rate: 0, cpu: 0, requests: 0 }]),
        ) as typeof sums;
        for (const t of targets) {
          for (const v of r % 2 ? [...names].reverse() : names) {
            const pid = started[v].child.pid ?? 0;
            const before = await cpuSecondsOfTree(pid);
            const run = await wrkRun(started[v].url + t.path, burst);
            turn[v].rate += run.rate;
            turn[v].requests += run.requests;
            turn[v].cpu += (await cpuSecondsOfTree(pid)) - before;
          }
        }
        for (const v of names) {
          sums[v].rate += turn[v].rate / rotations;
          sums[v].cpu += turn[v].cpu;
          sums[v].requests += turn[v].requests;
        }
        const perRequest = (v: Variant) => turn[v].cpu / turn[v].requests;
        for (const v of ["memory", "shared"] as const) {
          rateCosts[v].push((1 - turn[v].rate / turn.off.rate) * 100);
          cpuCosts[v].push((perRequest(v) / perRequest("off") - 1) * 100);
        }
      }
      for (const v of names) await started[v].stop();
      const spread = (xs: number[]) =>
        `median ${median(xs).toFixed(1)} %, ${Math.min(...xs).toFixed(1)} … ${Math.max(...xs).toFixed(1)} %`;
      const us = (v: Variant) => ((sums[v].cpu / sums[v].requests) * 1e6).toFixed(1);
      console.log(
        `rate limits, 1 worker, ${mode} downloads (${targets.length} targets summed, ${rotations} rotations of ${burst} s bursts): ` +
          `off ${sums.off.rate.toFixed(0)} req/s, in memory ${sums.memory.rate.toFixed(0)} (cost ${spread(rateCosts.memory)}), ` +
          `shared ${sums.shared.rate.toFixed(0)} (cost ${spread(rateCosts.shared)}) (goal ≤ 3 %)`,
      );
      // The servers' own CPU time per request: what the counting costs, less sensitive to the machine's other load.
      console.log(
        `rate limits, 1 worker, ${mode} downloads, server CPU per request: off ${us("off")} µs, ` +
          `in memory ${us("memory")} µs (cost ${spread(cpuCosts.memory)}), ` +
          `shared ${us("shared")} µs (cost ${spread(cpuCosts.shared)}) (goal ≤ 3 %)`,
      );
    }
  }
  async function compareWithNginx() {
    server = await startTestServer({ dataDir: data.dir, args: ["--workers", String(many)] });
    servers.push(server);
    await measure(`protodepot, ${many} workers`, server.url, true);
    await server.stop();
    for (const workers of [1, many]) {
      const nginx = await startNginx(root, workers);
      try {
        await measure(`nginx, ${workers} worker${workers > 1 ? "s" : ""}`, nginx.url, false);
      } finally {
        await nginx.stop();
      }
    }

    const rate = (label: string, name: string) =>
      rows.find((r) => r.label === label)?.rates[name] ?? Number.NaN;
    console.log(
      `\ncached downloads, wrk -t1 -c${connections} -d${seconds}s, requests/s (ratio to nginx, same workers):`,
    );
    for (const t of measured) {
      const one = rate("protodepot, 1 worker", t.name);
      const n = rate(`protodepot, ${many} workers`, t.name);
      const nginx1 = rate("nginx, 1 worker", t.name);
      const nginxN = rate(`nginx, ${many} workers`, t.name);
      console.log(
        `  ${t.name.padEnd(30)} 1 worker ${one.toFixed(0).padStart(6)} (${(one / nginx1).toFixed(2)}× nginx ${nginx1.toFixed(0)})` +
          `   ${many} workers ${n.toFixed(0).padStart(6)} (${(n / nginxN).toFixed(2)}× nginx ${nginxN.toFixed(0)}, goal ≥ 0.5)`,
      );
    }
    const h1 = rate("protodepot, 1 worker", "/healthz");
    const hN = rate(`protodepot, ${many} workers`, "/healthz");
    console.log(
      `  ${"/healthz (probes DB and blobs)".padEnd(30)} 1 worker ${h1.toFixed(0).padStart(6)}   ${many} workers ${hN.toFixed(0)}`,
    );
    console.log(
      `  scaling ${many} workers / 1 worker (archive): ${(rate(`protodepot, ${many} workers`, targets[0].name) / rate("protodepot, 1 worker", targets[0].name)).toFixed(2)}×`,
    );
  }
} finally {
  for (const s of servers) await s.stop();
  await data.remove();
  await rm(root, { recursive: true, force: true });
}
