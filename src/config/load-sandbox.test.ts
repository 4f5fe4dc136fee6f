// The sandbox section of the config: its defaults and env overrides (docs/plugins.md, "Limits on every host").
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "./load.js";

describe("sandbox config", () => {
  it("defaults to auto-detected cgroups, a reserved uid range, and refusing unbounded pushed plugins", () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.sandbox, {
      cgroups: "auto",
      uidRange: { first: 1_879_048_192, count: 64 },
      addressSpaceBytes: 8 * 2 ** 30,
      allowUnbounded: false,
    });
  });

  it("reads every key from the environment and refuses modes it does not know", () => {
    const c = loadConfig({
      env: {
        PROTODEPOT_SANDBOX_CGROUPS: "off",
        PROTODEPOT_SANDBOX_UID_RANGE_FIRST: "300000",
        PROTODEPOT_SANDBOX_UID_RANGE_COUNT: "8",
        PROTODEPOT_SANDBOX_ALLOW_UNBOUNDED: "true",
      },
    });
    assert.equal(c.sandbox.cgroups, "off");
    assert.deepEqual(c.sandbox.uidRange, { first: 300_000, count: 8 });
    assert.equal(c.sandbox.allowUnbounded, true);
    assert.throws(() => loadConfig({ env: { PROTODEPOT_SANDBOX_CGROUPS: "v3" } }), /sandbox\.cgroups/);
    assert.throws(
      () => loadConfig({ env: { PROTODEPOT_SANDBOX_UID_RANGE_FIRST: "0" } }),
      /sandbox\.uidRange/,
    );
  });
});
