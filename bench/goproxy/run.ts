// bench/goproxy: cold `go mod download` of a generated module vs local `buf generate` + Go module zip packaging, and
// warm `go mod download` (server cache hit) after `go clean -modcache`.
import { execFile } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { createGoModuleZip } from "../../src/generate/package/go.js";
import { goHost, goOk, makeGoEnv } from "../../test/e2e/support/go.js";
import { cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { knob, median, pushPaymentsRound, startBenchServer, time } from "../support.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 7, 1);
const buf = join(repoRoot, "node_modules/.bin/buf");
const modulePath = `${goHost}/protodepot/go/demo/payments`;

async function listFiles(dir: string): Promise<{ path: string; content: Uint8Array }[]> {
  const out: { path: string; content: Uint8Array }[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push({ path: relative(dir, p), content: await readFile(p) });
    }
  };
  await walk(dir);
  return out;
}

const bench = await startBenchServer("go");
const { server, work, env } = bench;
try {
  await exec(process.execPath, [cliPath, "push", join(repoRoot, "examples/money")], { env });
  const go = await makeGoEnv(join(work, "go"), server.url);
  // Outside any module: `go mod download path@version` fetches exactly that module (.info, .mod, .zip).
  const outside = { cwd: join(work, "go"), env: { ...go.env, GOFLAGS: "-modcacherw" } };

  // A local buf workspace with the same modules, the same plugin and the import paths the registry passes.
  const ws = join(work, "ws");
  for (const m of ["money", "payments"]) {
    await mkdir(join(ws, m), { recursive: true });
    await cp(join(repoRoot, "examples", m, "demo"), join(ws, m, "demo"), { recursive: true });
  }
  await writeFile(join(ws, "buf.yaml"), "version: v2\nmodules:\n  - path: money\n  - path: payments\n");
  const opts = [
    "paths=source_relative",
    `Mdemo/payments/v1/payments.proto=${modulePath}/demo/payments/v1;paymentsv1`,
    `Mdemo/money/v1/money.proto=${goHost}/protodepot/go/demo/money/demo/money/v1;moneyv1`,
  ];
  await writeFile(
    join(ws, "buf.gen.yaml"),
    `version: v2\nplugins:\n  - local: /usr/bin/protoc-gen-go\n    out: out\n    opt:\n${opts.map((o) => `      - "${o}"\n`).join("")}`,
  );

  const cold: number[] = [];
  const warm: number[] = [];
  const local: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const { proto, seq } = await pushPaymentsRound(bench, round);
    const version = `${modulePath}@v1.1.${seq}`;

    await goOk(["clean", "-modcache"], outside);
    const c = await time(() => goOk(["mod", "download", "-json", version], outside));
    await goOk(["clean", "-modcache"], outside);
    const w = await time(() => goOk(["mod", "download", "-json", version], outside));

    await cp(proto, join(ws, "payments/demo/payments/v1/payments.proto"));
    await rm(join(ws, "out"), { recursive: true, force: true });
    const l = await time(async () => {
      await exec(buf, ["generate", "payments"], {
        cwd: ws,
        env: { ...process.env, BUF_CACHE_DIR: join(work, "buf-cache") },
      });
      const files = await listFiles(join(ws, "out"));
      files.push({ path: "go.mod", content: new TextEncoder().encode(`module ${modulePath}\n\ngo 1.17\n`) });
      await writeFile(join(work, "local.zip"), await createGoModuleZip(modulePath, `v1.1.${seq}`, files));
    });
    // Round 0 warms both sides (binaries in the page cache, the go build cache of the go command itself).
    if (round > 0) {
      cold.push(c);
      warm.push(w);
      local.push(l);
    }
  }
  console.log(`go module download, ${rounds} rounds (protoc-gen-go, demo/payments):`);
  console.log(`  cold go mod download (generates)       median ${median(cold).toFixed(0)} ms`);
  console.log(`  warm go mod download (after go clean)  median ${median(warm).toFixed(0)} ms`);
  console.log(`  local buf generate + module zip        median ${median(local).toFixed(0)} ms`);
  console.log(`  ratio cold remote / local: ${(median(cold) / median(local)).toFixed(2)}`);
  console.log(`  ratio warm remote / local: ${(median(warm) / median(local)).toFixed(2)}`);
} finally {
  await bench.close();
}
