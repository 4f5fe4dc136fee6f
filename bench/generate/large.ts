// bench/generate large: a 60-file, 3,600-message module with long comments (≈ 19 MB of .proto, written here, never
// committed): server RSS after the push and at its peak, and cold generation against local `buf generate`.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { startBenchServer } from "../support.js";

const exec = promisify(execFile);
const files = Number(process.env.BENCH_FILES ?? 60);
const messagesPerFile = Number(process.env.BENCH_MESSAGES ?? 60);
const buf = join(repoRoot, "node_modules/.bin/buf");
const esPlugin = join(repoRoot, "node_modules/.bin/protoc-gen-es");

/** One file of the module: messages with 20 commented fields each, about 5 KB of source per message. */
function protoFile(f: number): string {
  const prose = (n: number) =>
    `${"Describes the meaning, units, limits and history of this value in the bench module. ".repeat(n)}`.trim();
  const lines = ['syntax = "proto3";', "", `package bench.large.v1;`, ""];
  for (let m = 0; m < messagesPerFile; m++) {
    lines.push(`// Message ${m} of file ${f}. ${prose(8)}`, `message File${f}Message${m} {`);
    for (let i = 1; i <= 20; i++) {
      lines.push(`  // Field ${i}: ${prose(2)}`, `  string field_${i} = ${i};`);
    }
    lines.push("}", "");
  }
  return lines.join("\n");
}

async function writeModule(dir: string): Promise<number> {
  let bytes = 0;
  await mkdir(join(dir, "bench/large/v1"), { recursive: true });
  await writeFile(join(dir, "buf.yaml"), "version: v1\nname: buf.build/bench/large\n");
  for (let f = 0; f < files; f++) {
    const text = protoFile(f);
    bytes += Buffer.byteLength(text);
    await writeFile(join(dir, `bench/large/v1/file_${f}.proto`), text);
  }
  return bytes;
}

const kib = async (pid: number, field: "VmRSS" | "VmHWM") =>
  Number(
    new RegExp(`${field}:\\s+(\\d+)`).exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN,
  );

/** Milliseconds until the whole body arrived, and its size. */
function download(url: string): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
      let bytes = 0;
      res.on("data", (d: Buffer) => (bytes += d.length));
      res.on("end", () => resolve({ ms: performance.now() - start, bytes }));
    })
      .on("error", reject)
      .end();
  });
}

const bench = await startBenchServer("large");
const { server, work, env } = bench;
try {
  await exec(process.execPath, [cliPath, "org", "create", "bench"], { env });
  const dir = join(work, "large");
  const protoBytes = await writeModule(dir);
  const pid = server.child.pid ?? 0;
  const idle = await kib(pid, "VmRSS");
  await exec(process.execPath, [cliPath, "push", dir], { env, maxBuffer: 64 << 20 });
  const afterPush = await kib(pid, "VmRSS");
  const pushPeak = await kib(pid, "VmHWM");

  const remote = await download(`${server.url}/v1/protodepot/es/v1/bench/large/main.tar.gz`);
  const genPeak = await kib(pid, "VmHWM");

  await writeFile(
    join(dir, "buf.gen.yaml"),
    `version: v2\nplugins:\n  - local: ${esPlugin}\n    out: out\n    opt: [target=ts]\n`,
  );
  const start = performance.now();
  await exec(buf, ["generate"], { cwd: dir, maxBuffer: 64 << 20 });
  const local = performance.now() - start;

  const mib = (k: number) => (k / 1024).toFixed(0);
  console.log(
    `large module: ${files} files, ${files * messagesPerFile} messages, ${(protoBytes / 2 ** 20).toFixed(1)} MiB of .proto`,
  );
  console.log(
    `  server RSS idle ${mib(idle)} MiB, after push ${mib(afterPush)} MiB, peak during push ${mib(pushPeak)} MiB`,
  );
  console.log(
    `  cold generation: remote ${remote.ms.toFixed(0)} ms (archive ${(remote.bytes / 2 ** 20).toFixed(1)} MiB), peak RSS ${mib(genPeak)} MiB`,
  );
  console.log(`  local buf generate ${local.toFixed(0)} ms`);
  console.log(`  ratio remote / local: ${(remote.ms / local).toFixed(2)} (goal <= 0.8)`);
} finally {
  await bench.close();
}
