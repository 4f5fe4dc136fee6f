// bench/generate large: a 60-file, 3,600-message module with long comments (≈ 19 MB of .proto, written here, never
// committed): server RSS after the push and at its peak, and cold generation against local `buf generate`.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { knob, startBenchServer } from "../support.js";

const exec = promisify(execFile);
const files = knob("BENCH_FILES", 60, 4);
const messagesPerFile = knob("BENCH_MESSAGES", 60, 4);
const rounds = knob("BENCH_ROUNDS", 3, 1);
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

/** Starts a new peak (VmHWM) measurement for the process (proc(5), clear_refs). */
const resetPeak = (pid: number) => writeFile(`/proc/${pid}/clear_refs`, "5");

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
  const push = () => exec(process.execPath, [cliPath, "push", dir], { env, maxBuffer: 64 << 20 });
  await push();
  const afterPush = await kib(pid, "VmRSS");
  const pushPeak = await kib(pid, "VmHWM");
  // What stays resident a moment after a large push: V8 frees its buffers in its own time (docs/serving.md).
  await new Promise((r) => setTimeout(r, 1000));
  const settled = await kib(pid, "VmRSS");

  await writeFile(
    join(dir, "buf.gen.yaml"),
    `version: v2\nplugins:\n  - local: ${esPlugin}\n    out: out\n    opt: [target=ts]\n`,
  );
  // One run each is at the mercy of a noisy neighbour: alternate them, each round over a new commit (one comment
  // changed, so the artifact is cold), and compare medians.
  const remotes: number[] = [];
  const locals: number[] = [];
  const genPeaks: number[] = [];
  let archiveBytes = 0;
  for (let round = 0; round < rounds; round++) {
    if (round > 0) {
      const first = join(dir, "bench/large/v1/file_0.proto");
      await writeFile(first, `${await readFile(first, "utf8")}\n// round ${round}\n`);
      await push();
    }
    await resetPeak(pid);
    const remote = await download(`${server.url}/v1/protodepot/es/v1/bench/large/main.tar.gz`);
    remotes.push(remote.ms);
    archiveBytes = remote.bytes;
    genPeaks.push(await kib(pid, "VmHWM"));
    const start = performance.now();
    await exec(buf, ["generate"], { cwd: dir, maxBuffer: 64 << 20 });
    locals.push(performance.now() - start);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");

  const mib = (k: number) => (k / 1024).toFixed(0);
  console.log(
    `large module: ${files} files, ${files * messagesPerFile} messages, ${(protoBytes / 2 ** 20).toFixed(1)} MiB of .proto`,
  );
  console.log(
    `  server RSS idle ${mib(idle)} MiB, right after push ${mib(afterPush)} MiB (peak ${mib(pushPeak)} MiB), 1 s later ${mib(settled)} MiB`,
  );
  console.log(
    `  peak RSS during each cold generation: ${genPeaks.map(mib).join(", ")} MiB (archive ${(archiveBytes / 2 ** 20).toFixed(1)} MiB)`,
  );
  console.log(`  cold generation, remote: ${ms(remotes)} ms; local buf generate: ${ms(locals)} ms`);
  console.log(
    `  ratio of medians remote / local: ${(median(remotes) / median(locals)).toFixed(2)} (goal <= 0.8)`,
  );
} finally {
  await bench.close();
}
