// Maven naming: artifactIds split back into their four names, and the only version shape we serve.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { mavenArtifactId, parseMavenArtifactId, parseMavenVersion } from "./names.js";

describe("maven names and versions", () => {
  const parts = {
    templateOwner: "protodepot",
    templateName: "java",
    moduleOwner: "demo",
    moduleName: "payments",
  };

  it("joins the four names with _ and splits them back; anything else is invalid", () => {
    assert.equal(mavenArtifactId(parts), "protodepot_java_demo_payments");
    assert.deepEqual(parseMavenArtifactId("protodepot_java_demo_payments"), parts);
    for (const bad of [
      "java_demo_payments",
      "a_b_c_d_e",
      "protodepot_java_Demo_payments",
      "",
      "protodepot_java__x",
    ]) {
      assert.throws(
        () => parseMavenArtifactId(bad),
        (err) =>
          isRegistryError(err, Code.InvalidArgument) && /expected \{templateOwner\}_/.test(err.message),
        bad,
      );
    }
  });

  it("reads only the exact 1.{t}.{seq} shape as a version", () => {
    assert.deepEqual(parseMavenVersion("1.3.7"), { templateVersion: 3, commitSeq: 7 });
    for (const bad of ["v1.3.7", "1.0.7", "1.3.0", "2.3.7", "1.3.7-SNAPSHOT", "1.03.7", "RELEASE", ""]) {
      assert.equal(parseMavenVersion(bad), undefined, bad);
    }
  });
});
