// bench/push: `protodepot push` of a ~500-file module vs `buf build` of the same directory, side by side; then the
// cost of the audit log and rate limits on pushes: API pushes to a server with both off and one with both on
// (limits far above what the benchmark sends, so only the counting and the audit event are measured), alternated.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { openRemote } from "../../src/cli/client.js";
import { ModuleService } from "../../src/gen/protodepot/v1/module_pb.js";
import { readModuleDir } from "../../src/workspace/module-dir.js";
import { adminToken, cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { knob, median, startBenchServer, time } from "../support.js";

const exec = promisify(execFile);
const files = knob("BENCH_FILES", 500, 20);
const rounds = knob("BENCH_ROUNDS", 5, 1);
const buf = join(repoRoot, "node_modules/.bin/buf");

/** Files in 25 packages; each imports its predecessor and a file of the previous package. Owner demo exists. */
async function writeModule(dir: string, round: number): Promise<void> {
  await writeFile(join(dir, "buf.yaml"), "version: v1\nname: buf.build/demo/big\n");
  const perPkg = 20;
  for (let i = 0; i < files; i++) {
    const pkg = Math.floor(i / perPkg);
    const path = `bench/p${pkg}/v1/f${i}.proto`;
    const imports: string[] = [];
    const fields: string[] = [];
    if (i % perPkg > 0) {
      imports.push(`import "bench/p${pkg}/v1/f${i - 1}.proto";`);
      fields.push(`  M${i - 1} prev = 10;`);
    }
    if (pkg > 0) {
      const other = (pkg - 1) * perPkg + (i % perPkg);
      imports.push(`import "bench/p${pkg - 1}/v1/f${other}.proto";`);
      fields.push(`  bench.p${pkg - 1}.v1.M${other} other = 11;`);
    }
    const text = [
      'syntax = "proto3";',
      `package bench.p${pkg}.v1;`,
      ...imports,
      `// round ${i === 0 ? round : 0}`,
      `message M${i} {`,
      "  string id = 1;",
      "  repeated int64 values = 2;",
      "  map<string, string> labels = 3;",
      ...fields,
      "}",
      `service S${i} {`,
      `  rpc Get(M${i}) returns (M${i});`,
      "}",
      "",
    ].join("\n");
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

const bench = await startBenchServer("push");
const { server, work, env } = bench;
try {
  const pushTimes: number[] = [];
  const apiTimes: number[] = [];
  const buildTimes: number[] = [];
  const client = (await openRemote({ remote: server.url, token: adminToken }, {})).client(ModuleService);
  // Round 0 warms caches on both sides and is not counted; each round changes a comment so every push is new.
  for (let round = 0; round <= rounds; round++) {
    const dir = join(work, `m${round}`);
    await mkdir(dir);
    await writeModule(dir, round);
    const b = await time(() => exec(buf, ["build", dir, "-o", join(work, "out.binpb")]));
    const p = await time(() => exec(process.execPath, [cliPath, "push", dir], { env }));
    // The same push through the API from this process: the server's share, without the CLI's start.
    await writeModule(dir, round + 1000);
    const files = await readModuleDir(dir);
    const a = await time(() => client.push({ files }));
    if (round > 0) {
      buildTimes.push(b);
      pushTimes.push(p);
      apiTimes.push(a);
    }
  }
  // Start-up: `protodepot --help` beside a bare `node -e 0`, the floor no JavaScript CLI can beat.
  const helpTimes: number[] = [];
  const nodeTimes: number[] = [];
  for (let round = 0; round <= rounds * 2; round++) {
    const h = await time(() => exec(process.execPath, [cliPath, "--help"]));
    const n = await time(() => exec(process.execPath, ["-e", "0"]));
    if (round > 0) {
      helpTimes.push(h);
      nodeTimes.push(n);
    }
  }
  const push = median(pushTimes);
  const api = median(apiTimes);
  const build = median(buildTimes);
  console.log(`files: ${files}, rounds: ${rounds}`);
  console.log(`buf build        median ${build.toFixed(0)} ms`);
  console.log(`protodepot push  median ${push.toFixed(0)} ms (CLI start + upload + compile + store)`);
  console.log(`API push         median ${api.toFixed(0)} ms (upload + compile + store, no CLI start)`);
  console.log(`ratio push / buf build: ${(push / build).toFixed(2)} (goal <= 1.2)`);
  console.log(`ratio API push / buf build: ${(api / build).toFixed(2)}`);
  const help = median(helpTimes);
  const bare = median(nodeTimes);
  console.log(
    `protodepot --help median ${help.toFixed(0)} ms (goal <= 150), node -e 0 median ${bare.toFixed(0)} ms`,
  );
  console.log(`ratio --help / node -e 0: ${(help / bare).toFixed(2)}`);
} finally {
  await bench.close();
}
await compareGovernance();

async function compareGovernance(): Promise<void> {
  const variants = {
    off: { PROTODEPOT_AUDIT_ENABLED: "false" },
    on: {
      PROTODEPOT_AUDIT_ENABLED: "true",
      PROTODEPOT_RATE_LIMITS_ADMIN: "1000000000",
      PROTODEPOT_RATE_LIMITS_ANONYMOUS: "1000000000",
    },
  } as const;
  const servers = {
    off: await startBenchServer("push-off", variants.off),
    on: await startBenchServer("push-on", variants.on),
  };
  try {
    const times: Record<keyof typeof variants, number[]> = { off: [], on: [] };
    const dir = join(servers.off.work, "governance");
    await mkdir(dir);
    for (let round = 0; round <= rounds * 2; round++) {
      // Alternate which server goes first, so neither always pushes on a warmer machine.
      for (const name of round % 2 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        const api = (await openRemote({ remote: servers[name].server.url, token: adminToken }, {})).client(
          ModuleService,
        );
        await writeModule(dir, 2000 + round);
        const files = await readModuleDir(dir);
        const t = await time(() => api.push({ files }));
        if (round > 0) times[name].push(t);
      }
    }
    const off = median(times.off);
    const on = median(times.on);
    console.log(
      `audit log + rate limits on API pushes (${files} files, ${times.on.length} rounds each, alternated): ` +
        `off median ${off.toFixed(0)} ms, on median ${on.toFixed(0)} ms, cost ${((on / off - 1) * 100).toFixed(1)} %`,
    );
  } finally {
    await servers.off.close();
    await servers.on.close();
  }
}
