import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundOf } from "./quotas.js";

describe("quota set flags", () => {
  it("keeps a bound left out, drops one set to default, and reads counts and bytes", () => {
    assert.equal(boundOf("--modules", undefined, 7), 7);
    assert.equal(boundOf("--modules", "default", 7), undefined);
    assert.equal(boundOf("--modules", "0", 7), 0);
    assert.equal(boundOf("--images", "200", undefined), 200);
    // Bytes past 32 bits: a 50 GiB image quota.
    assert.equal(boundOf("--image-bytes", "53687091200", undefined, "bytes"), 53_687_091_200);
  });

  it("refuses what is not a plain number, and counts past a billion, naming the flag", () => {
    for (const [flag, text, unit] of [
      ["--modules", "-1", "count"],
      ["--modules", "1e3", "count"],
      ["--modules", "53687091200", "count"],
      ["--image-bytes", "500MiB", "bytes"],
      ["--image-bytes", "01", "bytes"],
      ["--image-bytes", "1".repeat(16), "bytes"],
    ] as const) {
      assert.throws(() => boundOf(flag, text, undefined, unit), new RegExp(`invalid ${flag} "${text}"`));
    }
    assert.throws(() => boundOf("--image-bytes", "2GB", undefined, "bytes"), /a number of bytes/);
  });
});
