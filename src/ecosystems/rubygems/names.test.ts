import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gemFileName, gemName, parseGemFileName, parseGemName, parseGemVersion } from "./names.js";

const parts = {
  templateOwner: "protodepot",
  templateName: "ruby",
  moduleOwner: "acme",
  moduleName: "pay-ments",
};

describe("gem names", () => {
  it("join four names with _ and split back to exactly them", () => {
    const name = gemName(parts);
    assert.equal(name, "protodepot_ruby_acme_pay-ments");
    assert.deepEqual(parseGemName(name), { kind: "ours", parts });
  });

  it("leave names without _ to others, and refuse malformed names of our shape", () => {
    assert.deepEqual(parseGemName("google-protobuf"), { kind: "foreign" });
    for (const bad of ["a_b_c", "aa_bb_cc_dd_ee", "Aa_bb_cc_dd", "aa__cc_dd", `${"a".repeat(65)}_bb_cc_dd`]) {
      assert.throws(() => parseGemName(bad), /invalid gem name/, bad);
    }
  });

  it("read only the exact 1.{t}.{seq} shape as a version", () => {
    assert.deepEqual(parseGemVersion("1.2.30"), { templateVersion: 2, commitSeq: 30 });
    for (const bad of ["1.02.3", "2.1.1", "1.1.1.pre", "1.1", "1.1.1-x86_64-linux", "v1.1.1"]) {
      assert.equal(parseGemVersion(bad), undefined, bad);
    }
  });

  it("name files {name}-{version}{suffix} and read them back at the last dash", () => {
    const file = gemFileName("protodepot_ruby_acme_pay-ments", "1.1.2", ".gem");
    assert.equal(file, "protodepot_ruby_acme_pay-ments-1.1.2.gem");
    assert.deepEqual(parseGemFileName(file, ".gem"), {
      name: "protodepot_ruby_acme_pay-ments",
      version: "1.1.2",
    });
    assert.deepEqual(parseGemFileName("x_y_z_w-1.1.1.gemspec.rz", ".gemspec.rz"), {
      name: "x_y_z_w",
      version: "1.1.1",
    });
    for (const bad of ["x.gem", "-1.1.1.gem", "x-.gem", "x-1.1.1.tgz"]) {
      assert.equal(parseGemFileName(bad, ".gem"), undefined, bad);
    }
  });
});
