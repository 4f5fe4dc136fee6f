import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "./errors.js";
import { checkLabel, isCommitId, isValidName, parseFullName, parseModuleRef } from "./names.js";

describe("names", () => {
  it("accepts lowercase names of 2-64 chars and refuses the rest", () => {
    for (const ok of ["ab", "acme", "a-b", "x1", "a".repeat(64)]) assert.ok(isValidName(ok), ok);
    for (const bad of ["a", "A", "a_b", "-ab", "ab-", "a".repeat(65), "a/b", ""])
      assert.ok(!isValidName(bad), bad);
  });

  it("parses OWNER/NAME, with an optional host for buf.yaml names", () => {
    assert.deepEqual(parseFullName("module", "acme/pay"), { owner: "acme", name: "pay" });
    assert.deepEqual(parseFullName("module", "buf.build/acme/pay", { allowHost: true }), {
      owner: "acme",
      name: "pay",
    });
    assert.throws(
      () => parseFullName("module", "buf.build/acme/pay"),
      (e) => isRegistryError(e, Code.InvalidArgument),
    );
    assert.throws(() => parseFullName("module", "acme/Pay"), /invalid module name "Pay"/);
  });

  it("parses dependency references with refs and host ports", () => {
    assert.deepEqual(parseModuleRef("buf.build/acme/pay:v2"), { owner: "acme", name: "pay", ref: "v2" });
    assert.deepEqual(parseModuleRef("localhost:8080/acme/pay"), { owner: "acme", name: "pay" });
    assert.deepEqual(parseModuleRef("localhost:8080/acme/pay:main"), {
      owner: "acme",
      name: "pay",
      ref: "main",
    });
  });

  it("tells commit ids from labels", () => {
    assert.ok(isCommitId("0123456789abcdef0123456789abcdef"));
    assert.ok(!isCommitId("main"));
    assert.equal(checkLabel("release-1.2"), "release-1.2");
    assert.throws(() => checkLabel("0123456789abcdef0123456789abcdef"), /commit id/);
    assert.throws(() => checkLabel("a b"), /invalid label/);
  });
});
