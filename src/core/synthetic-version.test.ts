import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goVersion, parseSyntheticVersion, semverVersion } from "./synthetic-version.js";

describe("synthetic versions", () => {
  it("renders v1.{t}.{seq} for Go and 1.{t}.{seq} for npm", () => {
    assert.equal(goVersion({ templateVersion: 2, commitSeq: 17 }), "v1.2.17");
    assert.equal(semverVersion({ templateVersion: 2, commitSeq: 17 }), "1.2.17");
  });

  it("parses both forms and refuses anything else with the expected shape", () => {
    assert.deepEqual(parseSyntheticVersion("v1.3.9"), { templateVersion: 3, commitSeq: 9 });
    assert.deepEqual(parseSyntheticVersion("1.3.9"), { templateVersion: 3, commitSeq: 9 });
    for (const bad of ["v2.1.1", "v1.0.1", "v1.1.0", "v1.1", "v1.1.1-pre", "latest", "v1.01.1"]) {
      assert.throws(
        () => parseSyntheticVersion(bad),
        /expected v1\.\{template version\}\.\{commit sequence\}/,
        bad,
      );
    }
  });
});
