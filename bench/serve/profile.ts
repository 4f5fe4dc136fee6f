// bench/serve/profile.ts: what rate limiting costs a kept (cached, answered from memory) download, read off the
// server's own CPU profile (node --cpu-prof) under wrk, with limits off, counted in memory and shared through the
// metadata store. Requests/s on a shared 2-core machine swing by more than the few percent at stake; the share of
// the server's samples spent in the limiter's code does not. Reported: that share, plus what the extra RateLimit-*
// headers add to writeHead (its share with limits on minus off); goal ≤ 3 % in all.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  adminToken,
  cliPath,
  makeDataDir,
  repoRoot,
  startTestServer,
} from "../../test/e2e/support/server.js";
import { knob } from "../support.js";
import { targets as downloads, type RateVariant, rateVariants } from "./downloads.js";

const exec = promisify(execFile);
const seconds = knob("BENCH_SECONDS", 8, 1);
const targets = downloads.map((t) => t.path);
const variants = rateVariants;
type Variant = RateVariant;

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Shares of the sampled (non-idle) time spent inside functions the predicates pick, callees included. */
function shares(
  p: Profile,
  picks: Record<string, (fn: string, url: string) => boolean>,
): Record<string, number> {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const time = new Map<number, number>();
  p.samples.forEach((id, i) => {
    time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const inside = Object.fromEntries(Object.keys(picks).map((k) => [k, 0]));
  let busy = 0;
  for (const [id, t] of time) {
    if (byId.get(id)?.callFrame.functionName === "(idle)") continue;
    busy += t;
    for (const [name, pick] of Object.entries(picks)) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = byId.get(cur)?.callFrame;
        if (frame && pick(frame.functionName, frame.url)) {
          inside[name] = (inside[name] ?? 0) + t;
          break;
        }
      }
    }
  }
  return Object.fromEntries(Object.entries(inside).map(([k, t]) => [k, (100 * t) / busy]));
}

const limiterCode = /\/(http\/rate-limits|services\/rate-limiter|http\/client-address)\.[jt]s$/;

async function profiled(dataDir: string, variant: Variant): Promise<{ rate: number; profile: Profile }> {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-bench-profile-"));
  const child = spawn(
    process.execPath,
    [
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      join(repoRoot, "bin/protodepot.js"),
      "serve",
      "--port",
      "0",
      "--data",
      dataDir,
    ],
    { env: { ...process.env, ...variants[variant] }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const read = (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  let rate = 0;
  for (const t of targets) {
    await (await fetch(url + t)).arrayBuffer();
    const { stdout } = await exec("wrk", ["-t1", "-c64", `-d${seconds}s`, url + t]);
    rate += Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  // The main thread's profile is the largest (worker threads write their own).
  const files = await Promise.all(
    (await readdir(dir)).map(async (f) => ({ f, size: (await stat(join(dir, f))).size })),
  );
  const main = files.sort((a, b) => b.size - a.size)[0];
  if (!main) throw new Error(`no profile written:\n${out}`);
  const profile = JSON.parse(await readFile(join(dir, main.f), "utf8")) as Profile;
  await rm(dir, { recursive: true, force: true });
  return { rate, profile };
}

const data = await makeDataDir("protodepot-bench-profile-data-");
try {
  const seed = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
  const env = { ...process.env, PROTODEPOT_REMOTE: seed.url, PROTODEPOT_TOKEN: adminToken };
  for (const m of ["money", "payments"])
    await exec(process.execPath, [cliPath, "push", `examples/${m}`], { env });
  for (const t of targets) await (await fetch(seed.url + t)).arrayBuffer();
  await seed.stop();

  const results = {} as Record<Variant, { rate: number; limiter: number; writeHead: number }>;
  for (const variant of Object.keys(variants) as Variant[]) {
    const { rate, profile } = await profiled(data.dir, variant);
    const s = shares(profile, {
      limiter: (_fn, url) => limiterCode.test(url),
      writeHead: (fn, url) => fn === "writeHead" && url === "node:_http_server",
    });
    results[variant] = { rate, limiter: s.limiter ?? 0, writeHead: s.writeHead ?? 0 };
  }
  for (const v of ["memory", "shared"] as const) {
    const r = results[v];
    const headers = r.writeHead - results.off.writeHead;
    console.log(
      `rate limits ${v === "memory" ? "in memory" : "shared"}, kept downloads (${targets.length} targets, ${seconds} s each): ` +
        `limiter code ${r.limiter.toFixed(2)} % of the server's CPU, RateLimit headers in writeHead ${headers.toFixed(2)} % ` +
        `(writeHead ${r.writeHead.toFixed(2)} % vs ${results.off.writeHead.toFixed(2)} % off): ` +
        `cost ${(r.limiter + Math.max(0, headers)).toFixed(2)} % (goal ≤ 3 %); ` +
        `${r.rate.toFixed(0)} req/s vs ${results.off.rate.toFixed(0)} off, unprofiled numbers in bench:serve`,
    );
  }
} finally {
  await data.remove();
}
