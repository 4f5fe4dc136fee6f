// npm naming: package names split back into their four names, and the only version shape we serve.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isRegistryError } from "../../core/errors.js";
import { npmPackageName, parseNpmPackageName, parseNpmVersion } from "./names.js";

describe("npm names and versions", () => {
  const parts = {
    templateOwner: "protodepot",
    templateName: "es",
    moduleOwner: "demo",
    moduleName: "payments",
  };

  it("joins the four names with _ and splits them back", () => {
    const name = npmPackageName("protodepot", parts);
    assert.equal(name, "@protodepot/protodepot_es_demo_payments");
    assert.deepEqual(parseNpmPackageName("protodepot", name), { kind: "ours", parts });
  });

  it("calls another scope foreign and a malformed name in ours invalid", () => {
    assert.deepEqual(parseNpmPackageName("protodepot", "@other/protodepot_es_demo_payments"), {
      kind: "foreign",
    });
    assert.deepEqual(parseNpmPackageName("protodepot", "lodash"), { kind: "foreign" });
    for (const bad of [
      "@protodepot/es_demo_payments",
      "@protodepot/a_b_c_d_e",
      "@protodepot/protodepot_es_Demo_payments",
      "@protodepot/",
    ]) {
      assert.throws(
        () => parseNpmPackageName("protodepot", bad),
        (err) =>
          isRegistryError(err) &&
          err.code === "invalid_argument" &&
          /expected @protodepot\/\{templateOwner\}/.test(err.message),
        bad,
      );
    }
  });

  it("reads only the exact 1.{t}.{seq} shape as a version", () => {
    assert.deepEqual(parseNpmVersion("1.3.7"), { templateVersion: 3, commitSeq: 7 });
    for (const bad of ["v1.3.7", "1.0.7", "1.3.0", "2.3.7", "1.3.7-rc.1", "1.03.7", "latest", ""]) {
      assert.equal(parseNpmVersion(bad), undefined, bad);
    }
  });
});
