import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { b4Digest, b5Digest, b5DigestYielding, b5Files, reachedDeps } from "./b5-digest.js";

const te = new TextEncoder();
const file = (path: string, text: string) => ({ path, content: te.encode(text) });
const shake = (s: string | Uint8Array) =>
  createHash("shake256", { outputLength: 64 }).update(s).digest("hex");

describe("b5 digest", () => {
  it("digests buf's file set: protos, LICENSE and the first doc file, never buf.yaml", () => {
    const files = [
      file("buf.yaml", "version: v2\n"),
      file("README.md", "readme"),
      file("buf.md", "doc"),
      file("LICENSE", "lic"),
      file("a/b.proto", 'syntax = "proto3";'),
    ];
    assert.deepEqual(
      b5Files(files).map((f) => f.path),
      ["buf.md", "LICENSE", "a/b.proto"],
    );
  });

  it("is shake256 of the manifest digest, then of it joined with sorted dependency digests", () => {
    const files = [file("z.proto", "z"), file("B.proto", "b"), file("buf.lock", "x")];
    const manifest = `shake256:${shake("b")}  B.proto\nshake256:${shake("z")}  z.proto\n`;
    const filesDigest = `shake256:${shake(manifest)}`;
    assert.equal(b5Digest(files, []).toString("hex"), shake(filesDigest));
    const d1 = Buffer.alloc(64, 1);
    const d2 = Buffer.alloc(64, 2);
    const joined = [filesDigest, `b5:${d1.toString("hex")}`, `b5:${d2.toString("hex")}`].join("\n");
    assert.equal(b5Digest(files, [d2, d1]).toString("hex"), shake(joined));
    assert.notEqual(
      b5Digest([file("z.proto", "Z"), file("B.proto", "b")], []).toString("hex"),
      shake(filesDigest),
    );
  });

  it("keeps the dependencies the imports reach, transitively, and drops the rest", () => {
    const mod = [file("app/app.proto", 'import "mid/mid.proto";\nimport "google/protobuf/any.proto";')];
    const candidates = [
      { key: "unused", files: [file("other/o.proto", "")] },
      { key: "base", files: [file("base/base.proto", "")] },
      { key: "mid", files: [file("mid/mid.proto", 'import public "base/base.proto";')] },
    ];
    assert.deepEqual(reachedDeps(mod, candidates), ["base", "mid"]);
  });
});

describe("b4 digest", () => {
  it("is shake256 of the manifest of buf's file set, with no dependencies and no buf.yaml", () => {
    const a = file("a/a.proto", 'syntax = "proto3";');
    const lic = file("LICENSE", "lic");
    const manifest = `shake256:${shake(lic.content)}  LICENSE\nshake256:${shake(a.content)}  a/a.proto\n`;
    assert.equal(b4Digest([a, lic, file("buf.yaml", "version: v1\n")]).toString("hex"), shake(manifest));
    // The b5 digest of a module without dependencies is one step further: the digest of "shake256:<b4 hex>".
    assert.equal(
      b5Digest([a, lic], []).toString("hex"),
      shake(`shake256:${b4Digest([lic, a]).toString("hex")}`),
    );
  });
});

describe("b5 digests of large files", () => {
  it("computes the same b5 digest when yielding as at once", async () => {
    const files = [
      { path: "a.proto", content: new Uint8Array(3 << 20).fill(97) },
      { path: "README.md", content: new TextEncoder().encode("# hi") },
    ];
    const deps = [new Uint8Array(64).fill(1)];
    assert.deepEqual(await b5DigestYielding(files, deps), b5Digest(files, deps));
  });
});
