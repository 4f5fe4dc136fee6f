// bench/plugin-image: skopeo copy of a new protoc-gen-go image → its first generated archive (unpack included),
// and the warm per-run cost of the image runtime against the host-command runtime on the same binary.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildRequest } from "../../src/generate/request.js";
import { buildExamples } from "../../src/generate/testing/examples.js";
import { buildBinaryImage } from "../../src/packaging/oci-image.js";
import { createHostRuntime } from "../../src/plugins/host/host-runtime.js";
import { createOciRuntime } from "../../src/plugins/oci/oci-runtime.js";
import { createRootfsCache } from "../../src/plugins/oci/rootfs-cache.js";
import type { PluginRuntime } from "../../src/plugins/runtime.js";
import { createSandbox } from "../../src/plugins/sandbox/sandbox.js";
import { putContent } from "../../src/storage/blob/content.js";
import { createFsBlobStore } from "../../src/storage/blob/fs/fs-blob-store.js";
import { staticBinaryImage, writeLayout } from "../../test/e2e/support/oci-image.js";
import { cliPath, repoRoot } from "../../test/e2e/support/server.js";
import { knob, median, startBenchServer, time } from "../support.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 5, 1);
const runs = knob("BENCH_RUNS", 41, 3);
const protocGenGo = "/usr/bin/protoc-gen-go";
const mib = 2 ** 20;

// Part 1: through the real server and skopeo, a new image per round (its label differs, so its digest does).
const bench = await startBenchServer("image");
const { server, work, env } = bench;
const cli = (args: string[]) => exec(process.execPath, [cliPath, ...args], { env });
const copies: number[] = [];
const firsts: number[] = [];
try {
  await cli(["push", join(repoRoot, "examples/money")]);
  for (let round = 0; round < rounds; round++) {
    const name = `go-${round}`;
    const layout = join(work, `layout-${round}`);
    await writeLayout(
      layout,
      // The Go runtime library makes the server pass protoc-gen-go its M options; the round label makes it new.
      await staticBinaryImage(protocGenGo, {
        "build.buf.plugins.runtime_library_versions.0.name": "google.golang.org/protobuf",
        "build.buf.plugins.runtime_library_versions.0.version": "v1.28.1",
        "dev.protodepot.bench.round": String(round),
      }),
      "v1.0.0",
    );
    copies.push(
      await time(() =>
        exec("skopeo", [
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          `admin:${env.PROTODEPOT_TOKEN}`,
          `oci:${layout}:v1.0.0`,
          `docker://${new URL(server.url).host}/demo/${name}:v1.0.0`,
        ]),
      ),
    );
    const plugins = JSON.stringify({
      plugins: [{ owner: "demo", name, parameter: "paths=source_relative" }],
    });
    await cli(["template", "create", `demo/${name}`, "--config", plugins]);
    const pins = JSON.stringify({ plugin_versions: [{ owner: "demo", name, version: "v1.0.0" }] });
    await cli(["template", "version", "create", `demo/${name}`, "--config", pins]);
    firsts.push(
      await time(async () => {
        const res = await fetch(`${server.url}/v1/demo/${name}/v1/demo/money/main.tar.gz`);
        if (res.status !== 200) throw new Error(`first archive: HTTP ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }),
    );
  }
} finally {
  await bench.close();
}
const copy = median(copies);
const first = median(firsts);
console.log(`skopeo copy of a new protoc-gen-go image: median ${copy.toFixed(0)} ms over ${rounds} images`);
console.log(`first archive after the copy (unpack + run + package): median ${first.toFixed(0)} ms`);
console.log(`copy → first archive: median ${(copy + first).toFixed(0)} ms`);

// Part 2: the two runtimes side by side in one process, same sandbox, same binary, same request, alternating.
const dir = await mkdtemp(join(tmpdir(), "protodepot-bench-runtimes-"));
const ws = await buildExamples();
try {
  const sandbox = createSandbox({
    timeoutMs: 30_000,
    memoryBytes: 1024 * mib,
    tmpBytes: 64 * mib,
    maxProcesses: 256,
    maxOutputBytes: 64 * mib,
    allowUnsandboxed: false,
  });
  const blobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
  const image = await buildBinaryImage({
    name: "protoc-gen-go",
    binary: new Uint8Array(await readFile(protocGenGo)),
    labels: {},
  });
  for (const b of [...image.blobs, image.manifest]) await putContent(blobs, b.bytes);
  // The rootfs lives in the temp dir, which the sandbox's user can reach.
  const rootfs = createRootfsCache({
    dir: join(dir, "rootfs"),
    maxBytes: 1024 * mib,
    limits: { maxBytes: 512 * mib, maxEntries: 10_000 },
  });
  await chmod(dir, 0o711);
  const oci = createOciRuntime({ sandbox, blobs, rootfs });
  const host = createHostRuntime(sandbox);
  const files = ["demo/money/v1/money.proto", "demo/payments/v1/payments.proto"];
  const parameter = [
    "paths=source_relative",
    "Mdemo/money/v1/money.proto=example.com/money/v1;moneyv1",
    "Mdemo/payments/v1/payments.proto=example.com/payments/v1;paymentsv1",
  ].join(",");
  const request = buildRequest({ image: ws.image, fileToGenerate: files, parameter, compilerVersion: "" });
  const runOnce = (rt: PluginRuntime, source: Parameters<PluginRuntime["run"]>[0]["source"]) =>
    time(() => rt.run({ source, request, label: "bench/go:v1" }));
  const hostSource = { kind: "host" as const, command: [protocGenGo] };
  const ociSource = { kind: "oci" as const, digest: image.manifest.digest };
  // Warm both: the image is unpacked once, the host command resolved once.
  await runOnce(oci, ociSource);
  await runOnce(host, hostSource);
  const hostTimes: number[] = [];
  const ociTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    hostTimes.push(await runOnce(host, hostSource));
    ociTimes.push(await runOnce(oci, ociSource));
  }
  sandbox.close();
  const h = median(hostTimes);
  const o = median(ociTimes);
  console.log(
    `warm run of protoc-gen-go, median of ${runs}: host ${h.toFixed(1)} ms, image ${o.toFixed(1)} ms`,
  );
  console.log(`image/host per-run ratio: ${(o / h).toFixed(2)}x (goal ≤ 1.10x)`);
} finally {
  await ws.cleanup();
  await rm(dir, { recursive: true, force: true });
}
