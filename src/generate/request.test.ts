import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Scope } from "../core/types.js";
import { buildRequest, createRequestBuilder, filesForScope, parseCompilerVersion } from "./request.js";
import { bufGenerate, bufPath, buildExamples, fixturePlugins, type Workspace } from "./testing/examples.js";

const exec = promisify(execFile);
const scopes: Scope[] = ["module", "imports", "imports_wkt"];
const normalize = (bytes: Uint8Array) =>
  toBinary(CodeGeneratorRequestSchema, fromBinary(CodeGeneratorRequestSchema, bytes));

async function bufRequest(ws: Workspace, scope: Scope): Promise<Uint8Array> {
  const files = await bufGenerate(
    ws,
    { path: join(fixturePlugins, "dump-request.mjs"), opt: [], strategy: "all" },
    scope,
  );
  const b64 = files.get("request.b64");
  assert.ok(b64);
  return new Uint8Array(Buffer.from(new TextDecoder().decode(b64), "base64"));
}

describe("buildRequest and filesForScope over the demo modules", () => {
  let ws: Workspace;
  before(async () => {
    ws = await buildExamples();
  });
  after(() => ws.cleanup());

  const scopeFiles = () => ({
    moduleFiles: ws.moduleFiles,
    depFiles: ws.depFiles,
    allFiles: fromBinary(FileDescriptorSetSchema, ws.image).file.map((f) => f.name),
  });

  test("each scope gives exactly its files, sorted", () => {
    assert.deepEqual(filesForScope(scopeFiles(), "module"), ["demo/payments/v1/payments.proto"]);
    assert.deepEqual(filesForScope(scopeFiles(), "imports"), [
      "demo/money/v1/money.proto",
      "demo/payments/v1/payments.proto",
    ]);
    assert.deepEqual(filesForScope(scopeFiles(), "imports_wkt"), [
      "demo/money/v1/money.proto",
      "demo/payments/v1/payments.proto",
      "google/protobuf/timestamp.proto",
    ]);
  });

  test("a dependency file the image does not hold is not generated", () => {
    const args = { ...scopeFiles(), depFiles: [...ws.depFiles, "demo/money/v1/unused.proto"] };
    assert.deepEqual(filesForScope(args, "imports"), [
      "demo/money/v1/money.proto",
      "demo/payments/v1/payments.proto",
    ]);
  });

  for (const scope of scopes) {
    test(`the request equals what buf generate sends a local plugin (${scope})`, async () => {
      const fileToGenerate = filesForScope(scopeFiles(), scope);
      const ours = buildRequest({ image: ws.image, fileToGenerate, parameter: "", compilerVersion: "" });
      assert.deepEqual(normalize(ours), normalize(await bufRequest(ws, scope)));
    });
  }

  test("module scope sends only the files needed, in dependency order", () => {
    const req = fromBinary(
      CodeGeneratorRequestSchema,
      buildRequest({
        image: ws.image,
        fileToGenerate: ["demo/money/v1/money.proto"],
        parameter: "x=y",
        compilerVersion: "1.75.0",
      }),
    );
    assert.deepEqual(
      req.protoFile.map((f) => f.name),
      ["demo/money/v1/money.proto"],
    );
    assert.deepEqual(
      req.sourceFileDescriptors.map((f) => f.name),
      ["demo/money/v1/money.proto"],
    );
    assert.equal(req.parameter, "x=y");
    assert.deepEqual(
      {
        major: req.compilerVersion?.major,
        minor: req.compilerVersion?.minor,
        patch: req.compilerVersion?.patch,
      },
      { major: 1, minor: 75, patch: 0 },
    );
  });

  test("a file that is not in the image is refused", () => {
    assert.throws(
      () =>
        buildRequest({ image: ws.image, fileToGenerate: ["nope.proto"], parameter: "", compilerVersion: "" }),
      /nope.proto is not in the image/,
    );
  });
});

test("source-retention options are stripped from proto_file and kept in source_file_descriptors, like buf", async () => {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-retention-"));
  try {
    await mkdir(join(dir, "m/opt"), { recursive: true });
    await writeFile(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: m\n");
    await writeFile(
      join(dir, "m/opt/o.proto"),
      `syntax = "proto3";
package opt;
import "google/protobuf/descriptor.proto";
extend google.protobuf.MessageOptions {
  string src_only = 50001 [retention = RETENTION_SOURCE];
  string kept = 50002;
}
extend google.protobuf.FieldOptions {
  string field_src = 50003 [retention = RETENTION_SOURCE];
}
message M {
  option (src_only) = "hidden";
  option (kept) = "visible";
  string a = 1 [(field_src) = "hidden too"];
}
`,
    );
    const env = { ...process.env, BUF_CACHE_DIR: join(dir, ".cache") };
    const { stdout } = await exec(bufPath, ["build", "m", "-o", "-", "--as-file-descriptor-set"], {
      cwd: dir,
      env,
      encoding: "buffer",
    });
    const ws: Workspace = {
      dir,
      target: "m",
      image: new Uint8Array(stdout),
      moduleFiles: ["opt/o.proto"],
      depFiles: [],
      cleanup: async () => {},
    };
    const ours = buildRequest({
      image: ws.image,
      fileToGenerate: ["opt/o.proto"],
      parameter: "",
      compilerVersion: "",
    });
    const theirs = await bufGenerate(
      ws,
      { path: join(fixturePlugins, "dump-request.mjs"), opt: [] },
      "module",
    ).then((files) => {
      const b64 = files.get("request.b64");
      assert.ok(b64);
      return new Uint8Array(Buffer.from(new TextDecoder().decode(b64), "base64"));
    });
    assert.deepEqual(normalize(ours), normalize(theirs));
    const req = fromBinary(CodeGeneratorRequestSchema, ours);
    const numbers = (opts: { $unknown?: { no: number }[] | undefined } | undefined) =>
      opts?.$unknown?.map((u) => u.no) ?? [];
    assert.deepEqual(numbers(req.protoFile[1]?.messageType[0]?.options), [50002]);
    assert.deepEqual(numbers(req.protoFile[1]?.messageType[0]?.field[0]?.options), []);
    assert.deepEqual(numbers(req.sourceFileDescriptors[0]?.messageType[0]?.options), [50001, 50002]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("parseCompilerVersion reads buf's version string", () => {
  const v = parseCompilerVersion("1.75.0");
  assert.deepEqual([v.major, v.minor, v.patch, v.suffix], [1, 75, 0, ""]);
  const rc = parseCompilerVersion("v1.2.3-rc.1");
  assert.deepEqual([rc.major, rc.minor, rc.patch, rc.suffix], [1, 2, 3, "rc.1"]);
  assert.throws(() => parseCompilerVersion("latest"), /major.minor.patch/);
});

test("parts are the request's bytes in order, views into the image for its files", async () => {
  const ws = await buildExamples();
  try {
    const builder = createRequestBuilder({
      image: ws.image,
      fileToGenerate: ["demo/payments/v1/payments.proto"],
      compilerVersion: "",
    });
    for (const parameter of ["", "target=ts"]) {
      const parts = builder.parts(parameter);
      assert.deepEqual(Buffer.concat(parts), Buffer.from(builder.build(parameter)));
    }
    const views = builder.parts("").filter((p) => p.buffer === ws.image.buffer);
    assert.ok(views.length >= 2, "the files' bytes are not copied");
  } finally {
    await ws.cleanup();
  }
});
