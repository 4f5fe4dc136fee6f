import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import type { Commit } from "../../core/types.js";
import type { GemListing } from "./catalog.js";
import { indexHeaders, renderInfo, renderNames, renderVersions } from "./render.js";

const commit: Commit = {
  id: "c".repeat(32),
  moduleId: "m1",
  owner: "demo",
  module: "payments",
  seq: 1,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: "2024-01-01T00:00:00Z",
};
const sha = "a".repeat(64);
const payments: GemListing = {
  name: "protodepot_ruby_demo_payments",
  versions: [
    {
      version: "1.1.1",
      dependencies: [
        [
          "google-protobuf",
          [
            ["~>", "3.21"],
            [">=", "3.21.1"],
          ],
        ],
        ["protodepot_ruby_demo_money", [["=", "1.1.1"]]],
      ],
      sha256: sha,
      commit,
    },
    { version: "1.1.2", dependencies: [], sha256: "b".repeat(64), commit },
  ],
};
const money: GemListing = {
  name: "protodepot_ruby_demo_money",
  versions: [{ version: "1.1.1", dependencies: [], sha256: sha, commit }],
};
const md5 = (text: string) => createHash("md5").update(text).digest("hex");

describe("compact index rendering", () => {
  it("info: one line per version, requirements joined by &, the checksum and the Ruby requirement", () => {
    assert.equal(
      renderInfo(payments),
      "---\n" +
        `1.1.1 google-protobuf:~> 3.21&>= 3.21.1,protodepot_ruby_demo_money:= 1.1.1|checksum:${sha},ruby:>= 2.5\n` +
        `1.1.2 |checksum:${"b".repeat(64)},ruby:>= 2.5\n`,
    );
    assert.equal(renderInfo({ name: "x", versions: [] }), "---\n");
  });

  it("versions: a constant header, then each gem's versions and the MD5 of its info", () => {
    assert.equal(
      renderVersions([money, payments]),
      "created_at: 2000-01-01T00:00:00Z\n---\n" +
        `protodepot_ruby_demo_money 1.1.1 ${md5(renderInfo(money))}\n` +
        `protodepot_ruby_demo_payments 1.1.1,1.1.2 ${md5(renderInfo(payments))}\n`,
    );
    assert.equal(
      renderNames([money, payments]),
      "---\nprotodepot_ruby_demo_money\nprotodepot_ruby_demo_payments\n",
    );
  });

  it("ETag is the quoted MD5 of the body (what Bundler 2.3 compares), Repr-Digest its sha-256", () => {
    const { etag, reprDigest } = indexHeaders("---\n");
    assert.equal(etag, `"${md5("---\n")}"`);
    assert.equal(reprDigest, `sha-256=:${createHash("sha256").update("---\n").digest("base64")}:`);
  });
});
