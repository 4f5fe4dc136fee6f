import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, isRegistryError } from "../core/errors.js";
import { createBufCompiler, type SourceFile } from "./buf-compiler.js";

const compiler = createBufCompiler({});
const text = (s: string) => new TextEncoder().encode(s);

function readModule(dir: string): SourceFile[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => p.endsWith(".proto"))
    .map((p) => ({ path: relative(dir, join(dir, p)), content: new Uint8Array(readFileSync(join(dir, p))) }));
}

const money = { name: "demo/money", files: readModule("examples/money") };
const payments = readModule("examples/payments");

async function compileError(promise: Promise<unknown>, code = Code.InvalidArgument): Promise<string[]> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isRegistryError(err, code), `expected ${code}, got ${String(err)}`);
    return [err.message, ...(err.fields.details ?? [])];
  }
  assert.fail("expected an error");
}

describe("buf compiler", () => {
  it("compiles a module without deps, with source info", async () => {
    const { image } = await compiler.compile({ module: { files: money.files }, deps: [] });
    const set = fromBinary(FileDescriptorSetSchema, image);
    assert.deepEqual(
      set.file.map((f) => f.name),
      ["demo/money/v1/money.proto"],
    );
    assert.ok((set.file[0]?.sourceCodeInfo?.location.length ?? 0) > 0);
  });

  it("compiles a module with a dep, files in dependency order with the well-known types", async () => {
    const { image } = await compiler.compile({ module: { files: payments }, deps: [money] });
    const set = fromBinary(FileDescriptorSetSchema, image);
    const names = set.file.map((f) => f.name);
    assert.deepEqual([...names].sort(), [
      "demo/money/v1/money.proto",
      "demo/payments/v1/payments.proto",
      "google/protobuf/timestamp.proto",
    ]);
    // Every file comes after the files it imports.
    for (const [i, file] of set.file.entries()) {
      for (const dep of file.dependency) assert.ok(names.indexOf(dep) < i, `${dep} before ${file.name}`);
    }
    const pay = set.file.find((f) => f.name === "demo/payments/v1/payments.proto");
    assert.ok((pay?.sourceCodeInfo?.location.length ?? 0) > 0);
    // proto3 optional survives into the image.
    assert.equal(pay?.messageType[0]?.field.find((f) => f.name === "memo")?.proto3Optional, true);
  });

  it("reports syntax errors as file:line:col without the workspace prefix", async () => {
    const bad = {
      path: "demo/payments/v1/x.proto",
      content: text('syntax = "proto3";\n\nmessage X { strin a = 1; }\n'),
    };
    const lines = await compileError(
      compiler.compile({ module: { files: [...payments, bad] }, deps: [money] }),
    );
    assert.equal(lines[0], "module does not compile");
    assert.ok(
      lines.some((l) => /^demo\/payments\/v1\/x\.proto:3:13: .*strin/.test(l)),
      lines.join("\n"),
    );
  });

  it("names the dependency of a broken dependency file", async () => {
    const broken = {
      name: "demo/money",
      files: [{ path: "demo/money/v1/money.proto", content: text('syntax = "proto3";\nmessage Money {\n') }],
    };
    const lines = await compileError(compiler.compile({ module: { files: payments }, deps: [broken] }));
    assert.ok(
      lines.some((l) => /^demo\/money: demo\/money\/v1\/money\.proto:\d+:\d+: /.test(l)),
      lines.join("\n"),
    );
  });

  it("names an import that does not exist", async () => {
    const lines = await compileError(compiler.compile({ module: { files: payments }, deps: [] }));
    assert.ok(
      lines.includes(
        "demo/payments/v1/payments.proto:5:1: imported file does not exist: demo/money/v1/money.proto",
      ),
      lines.join("\n"),
    );
  });

  it("compiles editions", async () => {
    const file = {
      path: "demo/ed/v1/ed.proto",
      content: text('edition = "2023";\n\npackage demo.ed.v1;\n\nmessage E {\n  string name = 1;\n}\n'),
    };
    const { image } = await compiler.compile({ module: { files: [file] }, deps: [] });
    const set = fromBinary(FileDescriptorSetSchema, image);
    assert.equal(set.file[0]?.syntax, "editions");
  });

  it("refuses a dependency file that shadows a module file", async () => {
    const lines = await compileError(
      compiler.compile({ module: { files: [...payments, ...money.files] }, deps: [money] }),
    );
    assert.match(
      lines[0] ?? "",
      /dependency demo\/money has file demo\/money\/v1\/money\.proto, which the module/,
    );
  });

  it("refuses two dependencies with the same file", async () => {
    const lines = await compileError(
      compiler.compile({ module: { files: payments }, deps: [money, { ...money, name: "demo/cash" }] }),
    );
    assert.match(
      lines[0] ?? "",
      /dependencies demo\/money and demo\/cash both have file demo\/money\/v1\/money\.proto/,
    );
  });

  it("refuses a symbol defined twice, which buf lets through", async () => {
    const dup = {
      path: "dup.proto",
      content: text('syntax = "proto3";\npackage demo.money.v1;\nmessage Money {}\n'),
    };
    const lines = await compileError(
      compiler.compile({ module: { files: [...payments, dup] }, deps: [money] }),
    );
    assert.ok(
      lines.some(
        (l) => /symbol demo\.money\.v1\.Money is already defined in /.test(l) && l.includes("demo/money: "),
      ),
      lines.join("\n"),
    );
  });

  it("refuses messages nested more than 64 deep, naming the file and the message", async () => {
    const nested = (levels: number) => {
      let body = "string x = 1;";
      for (let i = levels - 1; i >= 0; i--) body = `message N${i} { ${body} }`;
      return text(`syntax = "proto3";\npackage deep.v1;\n${body}\n`);
    };
    const ok = await compiler.compile({
      module: { files: [{ path: "deep/v1/ok.proto", content: nested(64) }] },
      deps: [],
    });
    assert.equal(fromBinary(FileDescriptorSetSchema, ok.image).file.length, 1);
    const lines = await compileError(
      compiler.compile({
        module: { files: [...money.files, { path: "deep/v1/deep.proto", content: nested(120) }] },
        deps: [],
      }),
    );
    assert.equal(lines[0], "module does not compile: deep/v1/deep.proto nests messages more than 64 deep");
    assert.match(lines[1] ?? "", /^deep\/v1\/deep\.proto: message deep\.v1\.N0\.N1\..*\.N64 is nested/);
  });

  it("ignores files that are not .proto", async () => {
    const { image } = await compiler.compile({
      module: { files: [...money.files, { path: "README.md", content: text("# hi") }] },
      deps: [],
    });
    assert.equal(fromBinary(FileDescriptorSetSchema, image).file.length, 1);
  });

  it("times out", async () => {
    const slow = createBufCompiler({ timeoutMs: 1 });
    const lines = await compileError(
      slow.compile({ module: { files: money.files }, deps: [] }),
      Code.Unprocessable,
    );
    assert.match(lines[0] ?? "", /compile time limit of 1 ms \(compile.timeoutMs\)/);
  });

  it("stops when the caller aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("client went away");
    const pending = compiler.compile({ module: { files: money.files }, deps: [] }, controller.signal);
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
  });

  it("removes its temp dir, after success and failure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "protodepot-compile-test-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      await compiler.compile({ module: { files: money.files }, deps: [] });
      await compileError(compiler.compile({ module: { files: payments }, deps: [] }));
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a missing buf binary as Internal", async () => {
    const missing = createBufCompiler({ bufPath: "/nonexistent/buf" });
    const lines = await compileError(
      missing.compile({ module: { files: money.files }, deps: [] }),
      Code.Internal,
    );
    assert.match(lines[0] ?? "", /not found at \/nonexistent\/buf/);
  });
});
