// go.mod rendering and module zip determinism of the Go packager.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inflateRawSync } from "node:zlib";
import type { CommitDep, PluginVersion } from "../../core/types.js";
import { checkGoFilePath, type GoModuleContext, goPackager, minGoVersion, renderGoMod } from "./go.js";
import type { PackageContext } from "./packager.js";

const enc = new TextEncoder();
const pinnedSums = {
  sum: "h1:7W7FWGOC3NdmlwsgTwDU7vhdDoNcQVhZb2ZAdPNiHPY=",
  goModSum: "h1:1UBzbZUwxqngXZt2l+251ZW0MUe5uEJ28Rkth/84Xbs=",
};

function plugin(
  name: string,
  go: { module: string; version: string }[],
  registryOptions: Record<string, unknown> = {},
): PluginVersion {
  return {
    pluginId: name,
    owner: "acme",
    name,
    version: "v1.0.0",
    source: { kind: "host", command: ["/bin/true"] },
    runtimeLibraries: { go },
    registryOptions,
    createdAt: "2024-01-01T00:00:00Z",
  };
}

const dep = (module: string, seq: number, direct = true): CommitDep => ({
  commitId: `${module}-${seq}`,
  owner: "demo",
  module,
  seq,
  direct,
});

function context(over: Partial<GoModuleContext> = {}): PackageContext {
  return {
    goHost: "buf.example.com",
    template: { id: "t", owner: "protodepot", name: "go", visibility: "public", plugins: [], createdAt: "" },
    templateVersion: { templateId: "t", number: 2, plugins: [], createdAt: "" },
    commit: {
      id: "c".repeat(32),
      moduleId: "m",
      owner: "demo",
      module: "payments",
      seq: 7,
      digest: "",
      sourcesBlob: "",
      imageBlob: "",
      createdBy: "",
      createdAt: "2024-05-01T10:00:00.000Z",
    },
    deps: [],
    plugins: [],
    scope: "module",
    npmScope: "protodepot",
    ...over,
  };
}

/** Reads a zip's central directory: entry names, DOS times, attributes and inflated contents. */
function readZip(
  bytes: Uint8Array,
): { name: string; time: number; date: number; attrs: number; content: string }[] {
  const buf = Buffer.from(bytes);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(off + 10);
    const time = buf.readUInt16LE(off + 12);
    const date = buf.readUInt16LE(off + 14);
    const csize = buf.readUInt32LE(off + 20);
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    const attrs = buf.readUInt32LE(off + 38);
    const local = buf.readUInt32LE(off + 42);
    const name = buf.toString("utf8", off + 46, off + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + csize);
    out.push({
      name,
      time,
      date,
      attrs,
      content: (method === 8 ? inflateRawSync(raw) : raw).toString("utf8"),
    });
    off += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

describe("renderGoMod", () => {
  it("renders module, go directive and sorted requirements", () => {
    const ctx = context({
      plugins: [
        plugin("go", [{ module: "google.golang.org/protobuf", version: "v1.28.1" }]),
        plugin("go-grpc", [
          { module: "google.golang.org/grpc", version: "v1.33.3" },
          { module: "google.golang.org/protobuf", version: "v1.30.0" },
        ]),
      ],
      deps: [dep("base", 2, false), dep("money", 3)],
    });
    assert.equal(
      renderGoMod(ctx),
      [
        "module buf.example.com/protodepot/go/demo/payments",
        "",
        "go 1.17",
        "",
        "require (",
        "\tbuf.example.com/protodepot/go/demo/money v1.2.3",
        "\tgoogle.golang.org/grpc v1.33.3",
        "\tgoogle.golang.org/protobuf v1.30.0",
        ")",
        "",
        "require (",
        "\tbuf.example.com/protodepot/go/demo/base v1.2.2 // indirect",
        ")",
        "",
      ].join("\n"),
    );
  });

  it("says what the commit and the template version recorded as deprecated, and nothing when they did not", () => {
    const plain = context();
    assert.ok(renderGoMod(plain).startsWith("module "));
    const base = context();
    const deprecated = context({
      commit: { ...base.commit, deprecation: "use demo/billing" },
      templateVersion: { ...base.templateVersion, deprecation: "plugin protocolbuffers/go is deprecated" },
    });
    const text = renderGoMod(deprecated);
    assert.equal(
      text.split("\n")[0],
      "// Deprecated: module demo/payments is deprecated: use demo/billing; plugin protocolbuffers/go is deprecated",
    );
    assert.equal(text.split("\n").slice(1).join("\n"), renderGoMod(plain));
  });

  it("does not depend on the order of plugins or deps", () => {
    const a = plugin("a", [{ module: "example.com/x", version: "v1.10.0" }]);
    const b = plugin("b", [{ module: "example.com/x", version: "v1.9.0" }]);
    const one = renderGoMod(context({ plugins: [a, b], deps: [dep("money", 1), dep("base", 1)] }));
    const two = renderGoMod(context({ plugins: [b, a], deps: [dep("base", 1), dep("money", 1)] }));
    assert.equal(one, two);
    assert.match(one, /example\.com\/x v1\.10\.0/);
  });

  it("refuses, naming the plugin, a stored Go library that is not a module path and version", () => {
    const hostile = plugin("hostile", [
      { module: "example.com/x v1.0.0\ngo 1.99\nreplace example.com/x", version: "v1.0.0" },
    ]);
    assert.throws(
      () => renderGoMod(context({ plugins: [hostile] })),
      /plugin acme\/hostile:v1\.0\.0 has Go runtime library .* which is not a module path and version/,
    );
  });

  it("has no require block without libraries or deps", () => {
    assert.equal(renderGoMod(context()), "module buf.example.com/protodepot/go/demo/payments\n\ngo 1.17\n");
  });

  it("takes the highest go.minGoVersion of the plugin versions", () => {
    assert.equal(
      minGoVersion([
        plugin("a", [], { go: { minGoVersion: "1.21" } }),
        plugin("b", [], { go: { minGoVersion: "1.9" } }),
      ]),
      "1.21",
    );
    assert.equal(minGoVersion([plugin("a", [], { go: { minGoVersion: "1.9" } })]), "1.17");
    assert.equal(minGoVersion([plugin("a", [], { go: { minGoVersion: "1.20.3" } })]), "1.20.3");
    assert.throws(() => minGoVersion([plugin("a", [], { go: { minGoVersion: "go1.21" } })]), /minGoVersion/);
  });

  it("is accepted by the real go command", {
    skip: !hasGo() && !process.env.CI && "go is not installed",
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "gomod-"));
    try {
      const ctx = context({
        plugins: [plugin("go", [{ module: "google.golang.org/protobuf", version: "v1.28.1" }])],
        deps: [dep("money", 3)],
      });
      const text = renderGoMod(ctx);
      writeFileSync(join(dir, "go.mod"), text);
      execFileSync("go", ["mod", "edit", "-fmt"], {
        cwd: dir,
        env: { ...process.env, GOFLAGS: "", GOPROXY: "off", HOME: dir },
      });
      // `go mod edit -fmt` rewrites the file in canonical form: ours already is.
      assert.equal(execFileSync("cat", [join(dir, "go.mod")]).toString(), text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasGo(): boolean {
  try {
    execFileSync("go", ["version"]);
    return true;
  } catch {
    return false;
  }
}

describe("Go module zip", () => {
  const files = [
    { path: "demo/payments/v1/payments.pb.go", content: enc.encode("package paymentsv1\n") },
    { path: "Z.txt", content: enc.encode("upper") },
    { path: "a/b.go", content: enc.encode("package a\n") },
  ];

  it("gives the same bytes twice, whatever the input order and time zone", async () => {
    const one = await goPackager.package(files, context());
    const two = await goPackager.package([...files].reverse(), context());
    assert.deepEqual(Buffer.from(one.bytes), Buffer.from(two.bytes));
    const tz = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const { goPackager } = await import(${JSON.stringify(new URL("./go.ts", import.meta.url).href)});
         const ctx = ${JSON.stringify(context())};
         const files = ${JSON.stringify(files.map((f) => ({ path: f.path, text: new TextDecoder().decode(f.content) })))}.map((f) => ({ path: f.path, content: new TextEncoder().encode(f.text) }));
         const r = await goPackager.package(files, ctx);
         process.stdout.write(Buffer.from(r.bytes).toString("base64"));`,
      ],
      { env: { ...process.env, TZ: "Pacific/Kiritimati" } },
    ).toString();
    assert.equal(tz, Buffer.from(one.bytes).toString("base64"));
  });

  it("sorts entries under {module}@{version}/ with go.mod equal to the rendered one", async () => {
    const ctx = context({
      plugins: [plugin("go", [{ module: "google.golang.org/protobuf", version: "v1.28.1" }])],
    });
    const { bytes, extra } = await goPackager.package(files, ctx);
    const entries = readZip(bytes);
    const prefix = "buf.example.com/protodepot/go/demo/payments@v1.2.7/";
    assert.deepEqual(
      entries.map((e) => e.name),
      ["Z.txt", "a/b.go", "demo/payments/v1/payments.pb.go", "go.mod"].map((p) => prefix + p),
    );
    assert.equal(entries.find((e) => e.name.endsWith("/go.mod"))?.content, renderGoMod(ctx));
    for (const e of entries) {
      assert.equal(e.attrs >>> 16, 0o100644);
      // 2000-01-01 00:00:00 as DOS date/time in every time zone.
      assert.equal(e.date, (20 << 9) | (1 << 5) | 1);
      assert.equal(e.time, 0);
    }
    assert.deepEqual(extra, { goModule: "buf.example.com/protodepot/go/demo/payments", goVersion: "v1.2.7" });
  });

  it("moves output written by import path into the module", async () => {
    const { bytes } = await goPackager.package(
      [
        {
          path: "buf.example.com/protodepot/go/demo/payments/demo/v1/x.pb.go",
          content: enc.encode("package v1\n"),
        },
      ],
      context(),
    );
    assert.ok(readZip(bytes).some((e) => e.name.endsWith("@v1.2.7/demo/v1/x.pb.go")));
  });

  it("rejects what Go would refuse", async () => {
    const bad = async (paths: string[]) =>
      goPackager.package(
        paths.map((path) => ({ path, content: enc.encode("x") })),
        context(),
      );
    await assert.rejects(bad(["a/go.mod"]), /go\.mod/);
    await assert.rejects(bad(["go.mod"]), /go\.mod/);
    await assert.rejects(bad(["a/X.go", "a/x.go"]), /collide/);
    await assert.rejects(bad(["A/x.go", "a/y.go"]), /collide/);
    await assert.rejects(bad(["a/b*.go"]), /invalid character/);
    assert.equal(checkGoFilePath("con.go"), '"con.go" is a reserved file name on Windows');
    assert.equal(checkGoFilePath("a/./b"), "not a clean relative path");
    assert.equal(checkGoFilePath(".github/x y.go"), undefined);
  });

  it("is a module the real go command downloads and verifies", {
    skip: !hasGo() && !process.env.CI && "go is not installed",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "gozip-"));
    try {
      const ctx = context();
      const { bytes } = await goPackager.package(files, ctx);
      const at = join(dir, "proxy", "buf.example.com/protodepot/go/demo/payments/@v");
      mkdirSync(at, { recursive: true });
      writeFileSync(join(at, "list"), "v1.2.7\n");
      writeFileSync(join(at, "v1.2.7.info"), '{"Version":"v1.2.7","Time":"2024-05-01T10:00:00Z"}');
      writeFileSync(join(at, "v1.2.7.mod"), renderGoMod(ctx));
      writeFileSync(join(at, "v1.2.7.zip"), bytes);
      const out = execFileSync(
        "go",
        ["mod", "download", "-json", "buf.example.com/protodepot/go/demo/payments@v1.2.7"],
        {
          cwd: dir,
          env: {
            ...process.env,
            HOME: dir,
            GOPATH: join(dir, "gopath"),
            GOMODCACHE: join(dir, "modcache"),
            GOCACHE: join(dir, "cache"),
            GOPROXY: `file://${join(dir, "proxy")}`,
            GOSUMDB: "off",
            GOFLAGS: "-modcacherw",
          },
        },
      ).toString();
      const info = JSON.parse(out) as { Sum: string; GoModSum: string };
      // Pinned: a change here means every go.sum that names a generated module breaks.
      assert.deepEqual({ sum: info.Sum, goModSum: info.GoModSum }, pinnedSums);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
