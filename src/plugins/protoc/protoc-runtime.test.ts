import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, isRegistryError } from "../../core/errors.js";
import { buildRequest } from "../../generate/request.js";
import { type PluginInvocation, runPlugins } from "../../generate/run-plugins.js";
import { buildExamples, testLimits, type Workspace } from "../../generate/testing/examples.js";
import { isBwrapAvailable } from "../sandbox/bwrap.js";
import { createSandbox } from "../sandbox/sandbox.js";
import { createProtocRuntime, descriptorSetOf, detectProtoc, type Protoc } from "./protoc-runtime.js";

const exec = promisify(execFile);
const mib = 2 ** 20;
const limits = {
  timeoutMs: 20_000,
  memoryBytes: 1024 * mib,
  tmpBytes: 64 * mib,
  maxProcesses: 256,
  maxOutputBytes: 32 * mib,
  allowUnsandboxed: false,
};
const sandbox = createSandbox(limits);
const protoc = await detectProtoc();
const missing = !protoc || !isBwrapAvailable();
const noPythonProtobuf = await exec("/usr/bin/python3", ["-c", "import google.protobuf"]).then(
  () => false,
  () => "python3-protobuf is not installed",
);

/** protoc itself over the same image, outside any sandbox: what the runtime must reproduce byte for byte. */
async function protocDirectly(p: Protoc, ws: Workspace, generator: string, files: string[]) {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-protoc-"));
  await writeFile(join(dir, "set.binpb"), ws.image);
  await mkdir(join(dir, "out"));
  await exec(p.path, [
    `--descriptor_set_in=${join(dir, "set.binpb")}`,
    `--${generator}_out=${join(dir, "out")}`,
    ...files,
  ]);
  const found = new Map<string, Uint8Array>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else found.set(relative(join(dir, "out"), path), new Uint8Array(await readFile(path)));
    }
  };
  await walk(join(dir, "out"));
  await rm(dir, { recursive: true, force: true });
  return found;
}

describe("protoc runtime", {
  // CI installs protobuf-compiler and bubblewrap (.ci/apt/pypi.txt, core.txt): there the test must run.
  skip: missing && !process.env.CI && "protoc or bwrap is not installed",
}, () => {
  let ws: Workspace;
  before(async () => {
    ws = await buildExamples();
  });
  after(() => ws?.cleanup());

  const run = (plugins: PluginInvocation[], files = ws.moduleFiles) =>
    runPlugins({
      image: ws.image,
      fileToGenerate: files,
      compilerVersion: "",
      plugins,
      runtime: createProtocRuntime(sandbox, protoc),
      limits: testLimits,
    });
  const plugin = (
    generator: "python" | "pyi" | "java" | "php",
    parameter = "",
    version = protoc?.version ?? "",
  ) => ({
    label: `protocolbuffers/${generator}:v${version}`,
    source: { kind: "protoc" as const, generator, version },
    parameter,
  });

  test("python and pyi in the sandbox give exactly what protoc writes over the same image", async () => {
    const files = await run([plugin("python"), plugin("pyi")], [...ws.moduleFiles, ...ws.depFiles]);
    assert.deepEqual(
      files.map((f) => f.path),
      [
        "demo/money/v1/money_pb2.py",
        "demo/money/v1/money_pb2.pyi",
        "demo/payments/v1/payments_pb2.py",
        "demo/payments/v1/payments_pb2.pyi",
      ],
    );
    const all = [...ws.moduleFiles, ...ws.depFiles];
    const expected = new Map([
      ...(await protocDirectly(protoc as Protoc, ws, "python", all)),
      ...(await protocDirectly(protoc as Protoc, ws, "pyi", all)),
    ]);
    for (const f of files) assert.deepEqual(f.content, expected.get(f.path), f.path);
  });

  test("the generated python imports and round-trips a message with Debian's protobuf runtime", {
    skip: !process.env.CI && noPythonProtobuf,
  }, async () => {
    const files = await run([plugin("python")], [...ws.moduleFiles, ...ws.depFiles]);
    const dir = await mkdtemp(join(tmpdir(), "protodepot-py-"));
    try {
      for (const f of files) {
        await mkdir(dirname(join(dir, f.path)), { recursive: true });
        await writeFile(join(dir, f.path), f.content);
      }
      const script = [
        "from demo.payments.v1 import payments_pb2",
        "p = payments_pb2.Payment(id='p1', memo='rent', status=payments_pb2.STATUS_SETTLED)",
        "p.amount.currency_code = 'EUR'",
        "p.amount.units = 12",
        "back = payments_pb2.Payment.FromString(p.SerializeToString())",
        "print(back.id, back.amount.currency_code, back.amount.units, back.memo, back.HasField('memo'), back.status)",
      ].join("\n");
      const { stdout } = await exec("/usr/bin/python3", ["-c", script], {
        cwd: dir,
        env: { PATH: "/usr/bin:/bin" },
      });
      assert.equal(stdout.trim(), "p1 EUR 12 rent True 2");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("java writes one file per outer class under the java package", async () => {
    const files = await run([plugin("java")]);
    assert.ok(files.length > 0);
    for (const f of files) assert.match(f.path, /\.java$/);
    const expected = await protocDirectly(protoc as Protoc, ws, "java", ws.moduleFiles);
    assert.deepEqual(new Set(files.map((f) => f.path)), new Set(expected.keys()));
    for (const f of files) assert.deepEqual(f.content, expected.get(f.path), f.path);
  });

  test("php's raw descriptor bytes (not UTF-8) come through exactly as protoc writes them", async () => {
    const files = await run([plugin("php")]);
    const expected = await protocDirectly(protoc as Protoc, ws, "php", ws.moduleFiles);
    assert.deepEqual(new Set(files.map((f) => f.path)), new Set(expected.keys()));
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    let binary = 0;
    for (const f of files) {
      assert.deepEqual(f.content, expected.get(f.path), f.path);
      try {
        utf8.decode(f.content);
      } catch {
        binary++;
      }
    }
    assert.ok(binary > 0, "the GPBMetadata file holds bytes that are not UTF-8");
  });

  test("a parameter protoc rejects becomes the response's error, naming the plugin", async () => {
    await assert.rejects(run([plugin("java", "no_such_option")]), (err: unknown) => {
      assert.ok(isRegistryError(err), String(err));
      assert.equal(err.code, Code.Unprocessable);
      assert.match(err.message, /plugin protocolbuffers\/java:v[\d.]+ failed: .*no_such_option/);
      return true;
    });
  });

  test("a version registered for another protoc refuses to run instead of giving other bytes", async () => {
    await assert.rejects(run([plugin("python", "", "3.0.0")]), (err: unknown) => {
      assert.ok(isRegistryError(err));
      assert.equal(err.code, Code.FailedPrecondition);
      assert.match(err.message, /needs protoc 3\.0\.0, but this server has protoc/);
      return true;
    });
  });

  test("unsandboxed (plugins.allowUnsandboxed without bwrap): concurrent runs share nothing and leave nothing in /tmp", async () => {
    const loose = createSandbox({ ...limits, bwrap: false, allowUnsandboxed: true });
    const before = new Set(await readdir("/tmp"));
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        runPlugins({
          image: ws.image,
          fileToGenerate: ws.moduleFiles,
          compilerVersion: "",
          plugins: [plugin("python")],
          runtime: createProtocRuntime(loose, protoc),
          limits: testLimits,
        }),
      ),
    );
    for (const files of runs) assert.deepEqual(files, runs[0]);
    const left = (await readdir("/tmp")).filter((n) => !before.has(n) && n.startsWith("tmp."));
    assert.deepEqual(left, []);
  });

  test("the descriptor set is the request's proto_file, read without decoding a descriptor", () => {
    const bytes = buildRequest({
      image: ws.image,
      fileToGenerate: ws.moduleFiles,
      parameter: "a=b",
      compilerVersion: "1.2.3",
    });
    const decoded = fromBinary(CodeGeneratorRequestSchema, bytes);
    const { request, set } = descriptorSetOf(bytes);
    assert.deepEqual(request, { fileToGenerate: decoded.fileToGenerate, parameter: "a=b" });
    assert.deepEqual(
      fromBinary(FileDescriptorSetSchema, set),
      create(FileDescriptorSetSchema, { file: decoded.protoFile }),
    );
    assert.ok(
      decoded.protoFile.some((f) => f.name === "google/protobuf/timestamp.proto"),
      "with the WKT",
    );
  });

  test("without protoc on the server: FailedPrecondition that says what to install", async () => {
    await assert.rejects(
      createProtocRuntime(sandbox, undefined).run({
        source: { kind: "protoc", generator: "python", version: "3.21.12" },
        request: new Uint8Array(),
        label: "protocolbuffers/python:v3.21.12",
      }),
      (err: unknown) =>
        isRegistryError(err, Code.FailedPrecondition) && /protobuf-compiler/.test(err.message),
    );
  });
});
