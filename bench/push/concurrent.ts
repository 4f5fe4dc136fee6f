// bench/push/concurrent.ts: push throughput and /healthz latency while 4 large pushes compile at once, each by its
// own ordinary user. /healthz is polled every 50 ms by a separate process (test/e2e/support/watch-server.ts), first
// for a few seconds with the server idle (the machine's own noise), then during the pushes.
//   npm run bench:push:concurrent            BENCH_ROUNDS=3 BENCH_MESSAGES=12000 BENCH_FILES=4
import { spawn } from "node:child_process";
import type { Client } from "@connectrpc/connect";
import { openRemote } from "../../src/cli/client.js";
import { ModuleService } from "../../src/gen/protodepot/v1/module_pb.js";
import { UserService } from "../../src/gen/protodepot/v1/user_pb.js";
import { adminToken, repoRoot } from "../../test/e2e/support/server.js";
import { knob, startBenchServer } from "../support.js";

const rounds = knob("BENCH_ROUNDS", 3, 1);
const filesPerModule = knob("BENCH_FILES", 4, 2);
const messagesPerFile = knob("BENCH_MESSAGES", 12_000, 100);
const pushers = ["p1", "p2", "p3", "p4"];
const enc = new TextEncoder();

/** A large module: files of chained messages (the shape that makes buf's memory grow), one comment per round. */
function largeModule(user: string, round: number) {
  const files = [{ path: "buf.yaml", content: enc.encode(`version: v1\nname: buf.build/${user}/large\n`) }];
  for (let f = 0; f < filesPerModule; f++) {
    const lines = [`syntax = "proto3";`, `package large.f${f};`, `// round ${round}`];
    for (let i = 0; i < messagesPerFile; i++) {
      const next = i + 1 < messagesPerFile ? i + 1 : i;
      lines.push(`message M${i} { string a = 1; M${next} b = 2; repeated int32 c = 3; }`);
    }
    files.push({ path: `large/f${f}.proto`, content: enc.encode(`${lines.join("\n")}\n`) });
  }
  return files;
}

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}

/** /healthz every 50 ms from another process, for as long as `work` runs. */
async function healthzDuring(pid: number, url: string, work: () => Promise<unknown>): Promise<number[]> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/e2e/support/watch-server.ts", "healthz", String(pid), url],
    { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise((r) => setTimeout(r, 1_500));
  await work();
  child.stdin.end();
  await exited;
  const { healthz } = JSON.parse(out) as { healthz: (number | null)[] };
  return healthz.slice(5).map((ms) => ms ?? Number.POSITIVE_INFINITY);
}

const describe = (label: string, ms: readonly number[]) =>
  `${label}: n=${ms.length} p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`;

const bench = await startBenchServer("push-concurrent");
try {
  const { server } = bench;
  const pid = server.child.pid ?? 0;
  const admin = (await openRemote({ remote: server.url, token: adminToken }, {})).client(UserService);
  const clients: Client<typeof ModuleService>[] = [];
  for (const name of pushers) {
    await admin.createUser({ name });
    const { token } = await admin.createToken({ user: name });
    clients.push((await openRemote({ remote: server.url, token }, {})).client(ModuleService));
  }
  const bytes = largeModule("p1", 0).reduce((n, f) => n + f.content.byteLength, 0);
  const idle = await healthzDuring(pid, server.url, () => new Promise((r) => setTimeout(r, 3_000)));
  const outcomes: string[] = [];
  let wall = 0;
  const busy = await healthzDuring(pid, server.url, async () => {
    for (let round = 1; round <= rounds; round++) {
      const started = performance.now();
      const results = await Promise.allSettled(
        clients.map((client, i) => client.push({ files: largeModule(pushers[i] ?? "", round) })),
      );
      wall += performance.now() - started;
      for (const r of results)
        outcomes.push(r.status === "fulfilled" ? "ok" : String(r.reason).slice(0, 160));
    }
  });
  const ok = outcomes.filter((o) => o === "ok").length;
  console.log(
    `module: ${filesPerModule} files, ${messagesPerFile} messages each, ${(bytes / 2 ** 20).toFixed(1)} MiB; ${rounds} rounds of ${pushers.length} pushes at once`,
  );
  console.log(
    `pushes: ${ok}/${outcomes.length} stored in ${(wall / 1000).toFixed(1)} s: ${((ok / wall) * 1000 * 60).toFixed(1)} pushes/min`,
  );
  for (const o of new Set(outcomes)) if (o !== "ok") console.log(`  refused: ${o}`);
  console.log(describe("/healthz idle", idle));
  console.log(describe("/healthz while pushing", busy));
} finally {
  await bench.close();
}
