// bench/buf: the real buf CLI resolving a module with BENCH_BUF_DEPS dependencies from protodepot with an empty
// buf cache (`buf dep update` + `buf build`), against `buf build` of a local v2 workspace holding the same modules
// on disk, in the same run; and how many requests buf made of the server for it. With 10 dependencies buf 1.74
// makes 32: one GetCommits, 11 GetGraph, and one Download and one GetModules per dependency module.
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { adminToken, cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { knob, median, startBenchServer, time } from "../support.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 5, 1);
const depCount = knob("BENCH_BUF_DEPS", 10, 2);
const buf = join(repoRoot, "node_modules/.bin/buf");

/** Dependency i: two files in package dep{i}.v1, the second importing the first and a well-known type. */
function depFiles(i: number): Record<string, string> {
  const pkg = `dep${i}.v1`;
  return {
    [`dep${i}/v1/core.proto`]: `syntax = "proto3";\npackage ${pkg};\n\n// Core of dependency ${i}.\nmessage Core${i} {\n  string id = 1;\n  repeated int64 values = 2;\n}\n`,
    [`dep${i}/v1/extra.proto`]: `syntax = "proto3";\npackage ${pkg};\n\nimport "dep${i}/v1/core.proto";\nimport "google/protobuf/timestamp.proto";\n\nmessage Extra${i} {\n  Core${i} core = 1;\n  google.protobuf.Timestamp at = 2;\n}\n`,
  };
}

const deps = Array.from({ length: depCount }, (_, i) => i);
const appProto = `syntax = "proto3";\npackage app.v1;\n\n${deps.map((i) => `import "dep${i}/v1/extra.proto";\n`).join("")}\nmessage App {\n${deps.map((i) => `  dep${i}.v1.Extra${i} d${i} = ${i + 1};\n`).join("")}}\n`;

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

const bench = await startBenchServer("buf");
const { server, work, env } = bench;
try {
  const host = new URL(server.url).host;
  for (const i of deps) {
    const dir = join(work, "push", `dep${i}`);
    await writeFiles(dir, { "buf.yaml": `version: v1\nname: buf.build/demo/dep${i}\n`, ...depFiles(i) });
    await exec(process.execPath, [cliPath, "push", dir], { env });
  }
  // buf speaks https unless its config says otherwise.
  const config = join(work, "buf-config");
  await mkdir(config, { recursive: true });
  await writeFile(join(config, "config.yaml"), "version: v1\ntls:\n  use: false\n");
  const bufEnv = (cache: string) => ({
    ...process.env,
    HOME: work,
    BUF_CONFIG_DIR: config,
    BUF_CACHE_DIR: cache,
    BUF_TOKEN: `${adminToken}@${host}`,
  });

  // The same modules on disk: one v2 workspace, nothing to download.
  const ws = join(work, "ws");
  await writeFiles(ws, {
    "buf.yaml": `version: v2\nmodules:\n${[...deps.map((i) => `  - path: dep${i}\n`), "  - path: app\n"].join("")}`,
    "app/app/v1/app.proto": appProto,
  });
  for (const i of deps) await writeFiles(join(ws, `dep${i}`), depFiles(i));

  /** Requests the server answered so far, from one scrape (which itself counts once it is answered). */
  const answered = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
    const counted = ["protodepot_http_requests_total", "protodepot_kept_answers_total"];
    return (await res.text())
      .split("\n")
      .filter((l) => counted.some((name) => l.startsWith(name)))
      .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
  };

  const remote: number[] = [];
  const local: number[] = [];
  const requests: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const app = join(work, `app-${round}`);
    await writeFiles(app, {
      "buf.yaml": `version: v2\ndeps:\n${deps.map((i) => `  - ${host}/demo/dep${i}\n`).join("")}`,
      "app/v1/app.proto": appProto,
    });
    const cache = join(work, `cache-${round}`);
    const before = await answered();
    const ms = await time(async () => {
      await exec(buf, ["dep", "update"], { cwd: app, env: bufEnv(cache) });
      await exec(buf, ["build", "-o", join(work, "remote.binpb")], { cwd: app, env: bufEnv(cache) });
    });
    // The scrape that read `before` is counted too.
    const made = (await answered()) - before - 1;
    const localCache = join(work, `local-cache-${round}`);
    const localMs = await time(() =>
      exec(buf, ["build", "-o", join(work, "local.binpb")], { cwd: ws, env: bufEnv(localCache) }),
    );
    await rm(cache, { recursive: true, force: true });
    await rm(localCache, { recursive: true, force: true });
    // Round 0 warms the server's caches and the OS's; it is not counted.
    if (round === 0) continue;
    remote.push(ms);
    local.push(localMs);
    requests.push(made);
  }
  const r = median(remote);
  const l = median(local);
  console.log(
    `bench/buf: a module with ${depCount} dependencies, empty buf cache, ${rounds} rounds (medians)`,
  );
  console.log(`  protodepot: buf dep update + buf build   ${r.toFixed(0)} ms, ${median(requests)} requests`);
  console.log(`  local v2 workspace: buf build            ${l.toFixed(0)} ms`);
  console.log(`  ratio protodepot / local: ${(r / l).toFixed(2)}`);
} finally {
  await bench.close();
}
