import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, isRegistryError } from "../core/errors.js";
import type { Scope } from "../core/types.js";
import { PluginResponse_FileSchema } from "../gen/protodepot/plugin/v1/response_pb.js";
import { isBwrapAvailable } from "../plugins/sandbox/bwrap.js";
import { createOutputTree } from "./output.js";
import { filesForScope } from "./request.js";
import { type PluginInvocation, runPlugins, scanResponse } from "./run-plugins.js";
import {
  bufGenerate,
  buildExamples,
  fixturePlugins,
  repoRoot,
  testLimits,
  testRuntime,
  type Workspace,
} from "./testing/examples.js";

const runtime = testRuntime;
const limits = testLimits;
const es = join(repoRoot, "node_modules/.bin/protoc-gen-es");
const goOpts = [
  "Mdemo/payments/v1/payments.proto=example.com/gen/demo/payments/v1;paymentsv1",
  "Mdemo/money/v1/money.proto=example.com/gen/demo/money/v1;moneyv1",
];
const echo = (label: string, response: object): PluginInvocation => ({
  label,
  source: { kind: "host", command: [join(fixturePlugins, "echo.mjs")] },
  parameter: JSON.stringify(response),
});

describe("runPlugins over the demo modules", {
  skip: !isBwrapAvailable() && !process.env.CI && "bwrap is not installed",
}, () => {
  let ws: Workspace;
  before(async () => {
    ws = await buildExamples();
  });
  after(() => ws.cleanup());
  const files = (scope: Scope) =>
    filesForScope(
      {
        moduleFiles: ws.moduleFiles,
        depFiles: ws.depFiles,
        allFiles: fromBinary(FileDescriptorSetSchema, ws.image).file.map((f) => f.name),
      },
      scope,
    );
  const run = (plugins: PluginInvocation[], scope: Scope = "module", lim = limits) =>
    runPlugins({
      image: ws.image,
      fileToGenerate: files(scope),
      compilerVersion: "",
      plugins,
      runtime,
      limits: lim,
    });

  for (const scope of ["module", "imports", "imports_wkt"] as const) {
    for (const [name, path, opt] of [
      ["protoc-gen-es", es, ["target=ts"]],
      ["protoc-gen-go", "/usr/bin/protoc-gen-go", goOpts],
    ] as const) {
      test(`${name} in the sandbox writes what local buf generate writes, byte for byte (${scope})`, async () => {
        const ours = await run(
          [{ label: `test/${name}:v1`, source: { kind: "host", command: [path] }, parameter: opt.join(",") }],
          scope,
        );
        // strategy all: one request with every file, as we send (buf's default for local plugins is one per directory,
        // which makes protoc-gen-es import the WKT from @bufbuild/protobuf/wkt rather than the generated copy).
        const theirs = await bufGenerate(ws, { path, opt, strategy: "all" }, scope);
        assert.deepEqual(
          ours.map((f) => f.path),
          [...theirs.keys()].sort(),
        );
        for (const f of ours)
          assert.deepEqual(Buffer.from(f.content), Buffer.from(theirs.get(f.path) ?? []), f.path);
        assert.ok(ours.length >= 1);
      });
    }
  }

  const rejects = async (p: Promise<unknown>, code: Code, message: RegExp, plugin = "acme/bad:v1") =>
    assert.rejects(p, (err: unknown) => {
      assert.ok(isRegistryError(err), String(err));
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      assert.equal(err.fields.plugin, plugin);
      return true;
    });

  test("a response with error set: Unprocessable naming the plugin and its message", async () => {
    await rejects(
      run([echo("acme/bad:v1", { error: "unknown option foo" })]),
      Code.Unprocessable,
      /^plugin acme\/bad:v1 failed: unknown option foo$/,
    );
  });

  test("a long error is cut to 4 KiB with a marker, in the message every response and log line carries", async () => {
    const error = `${"é".repeat(3000)}end`;
    await assert.rejects(run([echo("acme/bad:v1", { error })]), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.Unprocessable), String(err));
      const [head, marker] = err.message.replace("plugin acme/bad:v1 failed: ", "").split("… ");
      assert.equal(head, "é".repeat(2048));
      assert.equal(marker, "[truncated, 6003 bytes in all]");
      return true;
    });
  });

  test("invalid response bytes: Internal naming the plugin", async () => {
    const invalid = {
      label: "acme/bad:v1",
      source: { kind: "host" as const, command: [join(fixturePlugins, "invalid.mjs")] },
      parameter: "",
    };
    await rejects(
      run([invalid]),
      Code.Internal,
      /plugin acme\/bad:v1 wrote an invalid CodeGeneratorResponse/,
    );
  });

  for (const [name, problem] of [
    ["../x", /"\.\.\/x": path contains "\.\."/],
    ["/etc/x", /"\/etc\/x": path is absolute/],
    ["a\\b", /backslash/],
    ["a/./b", /not clean/],
  ] as const) {
    test(`a file named ${name} is refused`, async () => {
      await rejects(
        run([echo("acme/bad:v1", { supportedFeatures: "1", file: [{ name, content: "x" }] })]),
        Code.Unprocessable,
        problem,
      );
    });
  }

  test("proto3 optional without FEATURE_PROTO3_OPTIONAL: error naming plugin and file", async () => {
    await rejects(
      run([echo("acme/bad:v1", { file: [{ name: "a.txt", content: "x" }] })]),
      Code.Unprocessable,
      /demo\/payments\/v1\/payments.proto: is a proto3 file that contains optional fields, but plugin acme\/bad:v1/,
    );
    // money.proto has no optional field: fine without the feature.
    const ok = await runPlugins({
      image: ws.image,
      fileToGenerate: ["demo/money/v1/money.proto"],
      compilerVersion: "",
      plugins: [echo("acme/old:v1", { file: [{ name: "a.txt", content: "x" }] })],
      runtime,
      limits,
    });
    assert.deepEqual(
      ok.map((f) => f.path),
      ["a.txt"],
    );
  });

  test("insertion points apply in plugin order; a duplicate file across plugins names both", async () => {
    const out = await run([
      echo("acme/base:v1", {
        supportedFeatures: "1",
        file: [{ name: "a.py", content: "def f():\n    # @@protoc_insertion_point(body)\n    pass\n" }],
      }),
      echo("acme/ins1:v1", {
        supportedFeatures: "1",
        file: [{ name: "a.py", insertionPoint: "body", content: "x = 1" }, { content: "\ny = 2\n" }],
      }),
      echo("acme/ins2:v1", {
        supportedFeatures: "1",
        file: [{ name: "a.py", insertionPoint: "body", content: "z = 3\n" }],
      }),
    ]);
    assert.equal(
      new TextDecoder().decode(out[0]?.content),
      "def f():\n    x = 1\n    y = 2\n    z = 3\n    # @@protoc_insertion_point(body)\n    pass\n",
    );
    await rejects(
      run([
        echo("acme/one:v1", { supportedFeatures: "1", file: [{ name: "a.txt", content: "1" }] }),
        echo("acme/bad:v1", { supportedFeatures: "1", file: [{ name: "a.txt", content: "2" }] }),
      ]),
      Code.Unprocessable,
      /plugin acme\/bad:v1 generated a.txt that plugin acme\/one:v1 also generated/,
    );
  });

  test("file count and total size are capped", async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, content: "x" }));
    await rejects(
      run([echo("acme/bad:v1", { supportedFeatures: "1", file: many })], "module", {
        maxFiles: 4,
        maxOutputBytes: 2 ** 20,
      }),
      Code.Unprocessable,
      /more than 4 files/,
    );
    await rejects(
      run(
        [
          echo("acme/bad:v1", {
            supportedFeatures: "1",
            file: [{ name: "big.txt", content: "x".repeat(2000) }],
          }),
        ],
        "module",
        { maxFiles: 4, maxOutputBytes: 1000 },
      ),
      Code.Unprocessable,
      /2000 bytes, over 1000/,
    );
  });
});

describe("output tree (protoc's merge rules)", () => {
  const chunk = (name: string, content: string, insertionPoint = "") =>
    create(PluginResponse_FileSchema, { name, content: new TextEncoder().encode(content), insertionPoint });
  test("inline /* @@protoc_insertion_point(x) */ inserts before the comment, without indent", () => {
    const t = createOutputTree(limits);
    t.add("p:v1", [chunk("a.c", "int a[] = { /* @@protoc_insertion_point(x) */ };\n")]);
    t.add("q:v1", [chunk("a.c", "1,", "x")]);
    assert.equal(
      new TextDecoder().decode(t.files()[0]?.content),
      "int a[] = { 1,\n/* @@protoc_insertion_point(x) */ };\n",
    );
  });
  test("a missing insertion point, a missing target, a nameless first chunk: errors", () => {
    const t = createOutputTree(limits);
    t.add("p:v1", [chunk("a.c", "x\n")]);
    assert.throws(
      () => t.add("q:v1", [chunk("a.c", "1", "nope")]),
      /insertion point "nope" not found in a.c/,
    );
    assert.throws(() => t.add("q:v1", [chunk("b.c", "1", "x")]), /tried to insert into b.c/);
    assert.throws(() => t.add("q:v1", [chunk("", "1")]), /first file without a name/);
    assert.throws(() => t.add("q:v1", [chunk("c.c", "1"), chunk("c.c", "2")]), /generated c.c twice/);
  });
  test("files come out sorted by path", () => {
    const t = createOutputTree(limits);
    t.add("p:v1", [chunk("b/z.ts", ""), chunk("a.ts", ""), chunk("b.ts", "")]);
    assert.deepEqual(
      t.files().map((f) => f.path),
      ["a.ts", "b.ts", "b/z.ts"],
    );
  });
});

describe("scanResponse (before anything is decoded)", () => {
  // Field 15 (file), length 0: two bytes per entry, so millions fit under the output cap.
  const emptyFiles = (n: number) => Buffer.alloc(2 * n, Buffer.from([0x7a, 0x00]));
  const errorField = (text: string) => {
    const bytes = Buffer.from(text);
    assert.ok(bytes.length < 128);
    return Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
  };
  test("more file entries than allowed: refused at the first one too many, whatever follows", () => {
    assert.deepEqual(scanResponse([emptyFiles(10)], 10), {});
    assert.deepEqual(scanResponse([emptyFiles(6), emptyFiles(5), Buffer.from([0xff])], 10), {
      tooManyChunks: true,
    });
  });
  test("the error, its last occurrence as protobuf reads it, cut to 4 KiB", () => {
    assert.deepEqual(scanResponse([errorField("first"), emptyFiles(2), errorField("second")]), {
      error: "second",
    });
    const long = Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0x04]), Buffer.alloc(65536, "e")]);
    assert.deepEqual(scanResponse([long]), { error: `${"e".repeat(4096)}… [truncated, 65536 bytes in all]` });
  });
});
