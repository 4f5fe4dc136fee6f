// bench/generate merge: merging a legitimate large plugin output before (merge-before.ts, protoc's rule over decoded
// text) and after (the planned merge, src/generate/output.ts and merge.ts), each case in a fresh process: median time
// and the peak RSS the merge adds over its inputs.
//   large  the size of protoc-gen-es's output for bench:generate:large's 60-file module (≈ 37 MB), no insertions
//   grpc   60 generated Python files of the same total size, and a grpc-style plugin inserting an import block and a
//          module_scope block into each, plus its own 60 files
// "after" is what generation runs (mergeOutputs: large merges in a worker, which from a checkout first compiles its
// modules through tsx); "after-dist" the same from dist/ (`npm run build`), as a deployed server runs it.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import {
  type PluginResponse_File,
  PluginResponse_FileSchema,
} from "../../src/gen/protodepot/plugin/v1/response_pb.js";
import { mergeOutputs, type PluginOutput } from "../../src/generate/merge.js";
import { createOutputTree } from "../../src/generate/output.js";
import { knob, median } from "../support.js";
import { createOutputTree as createOutputTreeBefore } from "./merge-before.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 5, 1);
const mib = 2 ** 20;
const limits = { maxFiles: 10_000, maxOutputBytes: 64 * mib };
type Impl = "before" | "after" | "after-inline" | "after-dist";
type Case = "large" | "grpc";

const chunk = (name: string, content: string, insertionPoint = "") =>
  create(PluginResponse_FileSchema, { name, content: Buffer.from(content), insertionPoint });

/** Generated-looking text of about `bytes` bytes. */
function body(bytes: number, indent: string): string {
  const line = `${indent}readonly fieldName: string = ""; // Describes the meaning, units and limits of this value.\n`;
  return line.repeat(Math.ceil(bytes / line.length));
}

function outputs(which: Case): PluginOutput[] {
  const perFile = Math.round((37 * 1e6) / 60);
  if (which === "large") {
    const files: PluginResponse_File[] = [];
    for (let f = 0; f < 60; f++) files.push(chunk(`bench/large/v1/file_${f}_pb.ts`, body(perFile, "  ")));
    return [{ plugin: "bench/es:v1", files }];
  }
  const base: PluginResponse_File[] = [];
  const grpc: PluginResponse_File[] = [];
  for (let f = 0; f < 60; f++) {
    const name = `bench/large/v1/file_${f}_pb2.py`;
    base.push(
      chunk(
        name,
        `import sys\n# @@protoc_insertion_point(imports)\n\n${body(perFile, "    ")}\n# @@protoc_insertion_point(module_scope)\n`,
      ),
    );
    grpc.push(chunk(name, "import grpc\nfrom grpc import aio\n", "imports"));
    grpc.push(chunk(name, body(4000, "    ").replace(/^/, "class Stub:\n"), "module_scope"));
    grpc.push(chunk(`bench/large/v1/file_${f}_pb2_grpc.py`, body(20_000, "    ")));
  }
  return [
    { plugin: "bench/python:v1", files: base },
    { plugin: "bench/grpc:v1", files: grpc },
  ];
}

/** The compiled merge (`npm run build`): its worker starts without compiling TypeScript first, as in production. */
const distMerge = new URL("../../dist/generate/merge.js", import.meta.url);

async function merge(impl: Impl, input: PluginOutput[]): Promise<number> {
  if (impl === "after") return (await mergeOutputs(input, { limits, deadlineMs: 60_000 })).length;
  if (impl === "after-dist") {
    const compiled = (await import(distMerge.href)) as { mergeOutputs: typeof mergeOutputs };
    return (await compiled.mergeOutputs(input, { limits, deadlineMs: 60_000 })).length;
  }
  const tree = impl === "before" ? createOutputTreeBefore(limits) : createOutputTree(limits);
  for (const o of input) tree.add(o.plugin, o.files);
  return tree.files().length;
}

const rssKib = (field: "VmRSS" | "VmHWM") =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))?.[1]);

if (process.argv[2] === "child") {
  const impl = process.argv[3] as Impl;
  const which = process.argv[4] as Case;
  const times: number[] = [];
  let before = 0;
  for (let r = 0; r < rounds; r++) {
    // Fresh inputs each round, as each generation has its own stdout.
    const input = outputs(which);
    if (r === 0) before = rssKib("VmRSS");
    const started = performance.now();
    await merge(impl, input);
    times.push(performance.now() - started);
  }
  process.stdout.write(JSON.stringify({ ms: median(times), peakMib: (rssKib("VmHWM") - before) / 1024 }));
} else {
  const run = async (impl: Impl, which: Case) => {
    const { stdout } = await exec(
      process.execPath,
      ["--import", "tsx", import.meta.filename, "child", impl, which],
      {
        maxBuffer: 1 << 20,
      },
    );
    return JSON.parse(stdout) as { ms: number; peakMib: number };
  };
  for (const which of ["large", "grpc"] as const) {
    const before = await run("before", which);
    const impls: Impl[] = [
      "after-inline",
      "after",
      ...(existsSync(distMerge) ? ["after-dist" as const] : []),
    ];
    for (const impl of impls) {
      const after = await run(impl, which);
      console.log(
        `${which.padEnd(6)} ${impl.padEnd(12)} ${after.ms.toFixed(1)} ms (before ${before.ms.toFixed(1)} ms, ` +
          `×${(after.ms / before.ms).toFixed(2)}); peak RSS over inputs ${after.peakMib.toFixed(0)} MiB ` +
          `(before ${before.peakMib.toFixed(0)} MiB)`,
      );
    }
  }
}
