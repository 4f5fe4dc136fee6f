import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import { fileDigests, manifestDigestOf, validateModuleFiles } from "./module-files.js";

const text = (s: string) => new TextEncoder().encode(s);
const file = (path: string, content = "") => ({ path, content: text(content) });
const limits = { maxFiles: 10, maxFileBytes: 100 };

function rejects(files: { path: string; content: Uint8Array }[], code: Code, pattern: RegExp, lim = limits) {
  assert.throws(
    () => validateModuleFiles(files, lim),
    (err) => isRegistryError(err, code) && pattern.test(err.message),
  );
}

describe("validateModuleFiles", () => {
  it("accepts protos in directories and the root files", () => {
    validateModuleFiles(
      [
        file("buf.yaml"),
        file("buf.lock"),
        file("LICENSE"),
        file("README.md"),
        file("buf.md"),
        file("a.proto"),
        file("demo/money/v1/money.proto"),
      ],
      limits,
    );
  });

  it("refuses unclean paths, naming them", () => {
    const bad = [
      "/abs.proto",
      "../up.proto",
      "a/../b.proto",
      "./a.proto",
      "a//b.proto",
      "a/",
      "a\\b.proto",
      "a\0.proto",
      "a\nb.proto",
      "a\u007f.proto",
      "",
      "dir/.proto",
    ];
    for (const path of bad) {
      rejects([file("ok.proto"), file(path)], Code.InvalidArgument, /invalid file path/);
    }
    rejects([file("a/../b.proto")], Code.InvalidArgument, /"a\/\.\.\/b\.proto".*"\.\." segment/);
  });

  it("refuses duplicates", () => {
    rejects([file("a.proto"), file("a.proto")], Code.InvalidArgument, /"a\.proto" is listed twice/);
  });

  it("refuses other files, and root files below the root", () => {
    rejects([file("a.proto"), file("main.go")], Code.InvalidArgument, /"main\.go" is not allowed/);
    rejects([file("a.proto"), file("sub/buf.yaml")], Code.InvalidArgument, /"sub\/buf\.yaml" is not allowed/);
    rejects([file("a.proto"), file("readme.md")], Code.InvalidArgument, /"readme\.md" is not allowed/);
  });

  it("refuses files shadowing the well-known types", () => {
    rejects(
      [file("google/protobuf/timestamp.proto")],
      Code.InvalidArgument,
      /reserved for the well-known types/,
    );
    validateModuleFiles([file("google/type/date.proto")], limits);
  });

  it("needs at least one .proto", () => {
    rejects([file("buf.yaml")], Code.InvalidArgument, /no \.proto files/);
    rejects([], Code.InvalidArgument, /no \.proto files/);
  });

  it("enforces the limits with ResourceExhausted", () => {
    rejects([file("a.proto"), file("b.proto")], Code.ResourceExhausted, /2 files.*limit of 1/, {
      maxFiles: 1,
      maxFileBytes: 100,
    });
    rejects(
      [file("a.proto"), file("big.proto", "x".repeat(101))],
      Code.ResourceExhausted,
      /"big\.proto" has 101/,
    );
    validateModuleFiles([file("exact.proto", "x".repeat(100))], limits);
  });
});

describe("manifest digest", () => {
  // What a push computes: each file hashed once (on the thread pool), then the manifest over those digests.
  const manifestDigest = async (files: Parameters<typeof fileDigests>[0]) =>
    manifestDigestOf(await fileDigests(files));

  it("hashes sorted sha256 manifest lines", async () => {
    const files = [file("b.proto", "b"), file("a.proto", "a")];
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    const manifest = `${sha("a")}  a.proto\n${sha("b")}  b.proto\n`;
    assert.equal(await manifestDigest(files), `sha256:${sha(manifest)}`);
    assert.deepEqual(
      (await fileDigests(files)).map((f) => [f.path, f.size, f.sha256]),
      [
        ["b.proto", 1, sha("b")],
        ["a.proto", 1, sha("a")],
      ],
    );
  });

  it("does not depend on order and changes with content or path", async () => {
    const a = [file("x/a.proto", "1"), file("b.proto", "2")];
    assert.equal(await manifestDigest(a), await manifestDigest([...a].reverse()));
    assert.notEqual(
      await manifestDigest(a),
      await manifestDigest([file("x/a.proto", "1"), file("b.proto", "3")]),
    );
    assert.notEqual(
      await manifestDigest(a),
      await manifestDigest([file("x/c.proto", "1"), file("b.proto", "2")]),
    );
    assert.match(await manifestDigest(a), /^sha256:[0-9a-f]{64}$/);
  });
});
