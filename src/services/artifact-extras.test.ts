import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ArtifactRecord, Flavour } from "../core/types.js";
import { extrasOf } from "./artifact-extras.js";

const record = (flavour: Flavour, extra: Record<string, string>): ArtifactRecord => ({
  templateId: "t",
  templateVersion: 1,
  commitId: "c",
  scope: "module",
  flavour,
  blob: "b",
  digest: "sha256:00",
  size: 1,
  extra,
  createdAt: "",
});

describe("artifact extras", () => {
  it("reads what a flavour's packager kept, required and optional fields, nothing else", () => {
    assert.deepEqual(extrasOf(record("npm", { integrity: "sha512-x", shasum: "00", other: "y" }), "npm"), {
      integrity: "sha512-x",
      shasum: "00",
    });
    assert.deepEqual(
      extrasOf(record("maven", { sha1: "1", md5: "2", pom: "<project/>", dependencies: "[]" }), "maven"),
      { sha1: "1", md5: "2", pom: "<project/>", dependencies: "[]" },
    );
  });

  it("is undefined without a required field, or for a record of another flavour", () => {
    assert.equal(extrasOf(record("pypi", { sha256: "ab", metadata: "M" }), "pypi"), undefined);
    assert.equal(extrasOf(record("npm", { integrity: "sha512-x", shasum: "00" }), "maven"), undefined);
    assert.deepEqual(extrasOf(record("archive", {}), "archive"), {});
  });
});
