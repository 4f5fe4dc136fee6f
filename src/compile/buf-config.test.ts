import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import { type BufConfigInput, parseBufConfig, parseBufLock } from "./buf-config.js";

const commitA = "0123456789abcdef0123456789abcdef";
const commitB = "fedcba9876543210fedcba9876543210";

function rejects(input: BufConfigInput, pattern: RegExp) {
  assert.throws(
    () => parseBufConfig(input),
    (err) => isRegistryError(err, Code.InvalidArgument) && pattern.test(err.message),
  );
}

describe("parseBufConfig v1", () => {
  it("reads the examples", () => {
    const money = parseBufConfig({ bufYaml: readFileSync("examples/money/buf.yaml", "utf8") });
    assert.deepEqual(money, {
      version: "v1",
      root: ".",
      name: { owner: "demo", name: "money" },
      deps: [],
      pins: new Map(),
      workspace: [],
    });
    const payments = parseBufConfig({ bufYaml: readFileSync("examples/payments/buf.yaml", "utf8") });
    assert.deepEqual(payments.deps, [{ owner: "demo", name: "money" }]);
  });

  it("reads refs, ignores build and unknown keys, and works without a name", () => {
    const config = parseBufConfig({
      bufYaml: [
        "version: v1",
        "deps:",
        "  - buf.build/acme/money:v2",
        "  - acme/units",
        "build:",
        "  excludes: [vendor]",
        "lint:",
        "  use: [DEFAULT]",
      ].join("\n"),
    });
    assert.equal(config.name, undefined);
    assert.deepEqual(config.deps, [
      { owner: "acme", name: "money", ref: "v2" },
      { owner: "acme", name: "units" },
    ]);
  });

  it("refuses bad shapes, naming the file and the key", () => {
    rejects({ bufYaml: "version: v1\nname: [a]" }, /^buf\.yaml: name must be a non-empty string, not a list/);
    rejects(
      { bufYaml: "version: v1\nname: buf.build/Acme/x" },
      /^buf\.yaml: name: invalid owner name "Acme"/,
    );
    rejects({ bufYaml: "version: v1\ndeps: acme/x" }, /^buf\.yaml: deps must be a list/);
    rejects(
      { bufYaml: "version: v1\ndeps: [a/b/c/d]" },
      /^buf\.yaml: deps\[0\]: invalid module "a\/b\/c\/d"/,
    );
    rejects({ bufYaml: "version: v1\ndeps: [acme/xy, h.io/acme/xy:v1]" }, /deps lists acme\/xy twice/);
    rejects({ bufYaml: "name: acme/x" }, /^buf\.yaml: `version` is missing/);
    rejects({ bufYaml: "version: v1beta1" }, /^buf\.yaml: version "v1beta1" is not supported/);
    rejects({ bufYaml: "" }, /^buf\.yaml: is empty/);
    rejects({ bufYaml: "- a\n- b" }, /^buf\.yaml: the document must be a mapping, not a list/);
  });

  it("refuses malformed YAML with the position", () => {
    rejects({ bufYaml: "version: v1\nname: [unclosed" }, /^buf\.yaml: is not valid YAML: .*line/);
    rejects(
      { bufYaml: "version: v1\nversion: v2" },
      /^buf\.yaml: is not valid YAML: key "version" appears twice \(line 2, column 1\)$/,
    );
  });
});

describe("parseBufConfig v2", () => {
  it("treats a v2 without modules as one module at the root", () => {
    const config = parseBufConfig({ bufYaml: "version: v2\ndeps: [buf.build/acme/money]" });
    assert.deepEqual(config, {
      version: "v2",
      root: ".",
      deps: [{ owner: "acme", name: "money" }],
      pins: new Map(),
      workspace: [],
    });
  });

  it("reads the one module's path and name", () => {
    const config = parseBufConfig({
      bufYaml: "version: v2\nmodules:\n  - path: proto/\n    name: buf.build/acme/pay\ndeps: [acme/money]",
    });
    assert.equal(config.root, "proto");
    assert.deepEqual(config.name, { owner: "acme", name: "pay" });
    assert.deepEqual(config.deps, [{ owner: "acme", name: "money" }]);
  });

  const several = [
    "version: v2",
    "modules:",
    "  - path: pay",
    "    name: buf.build/acme/pay",
    "  - path: money",
    "    name: buf.build/acme/money",
  ].join("\n");

  it("picks one of several modules by name", () => {
    const config = parseBufConfig({ bufYaml: several, moduleName: "acme/money" });
    assert.equal(config.root, "money");
    assert.deepEqual(config.name, { owner: "acme", name: "money" });
    assert.deepEqual(
      config.workspace,
      [{ owner: "acme", name: "pay" }],
      "the other modules of the workspace",
    );
    assert.equal(parseBufConfig({ bufYaml: several, moduleName: "buf.build/acme/pay" }).root, "pay");
  });

  it("lists the modules when it cannot pick one", () => {
    rejects({ bufYaml: several }, /declares 2 modules.*acme\/pay at pay, acme\/money at money/);
    rejects(
      { bufYaml: several, moduleName: "acme/other" },
      /declares no module acme\/other \(modules: acme\/pay/,
    );
  });

  it("refuses unclean module paths and empty module lists", () => {
    rejects({ bufYaml: "version: v2\nmodules:\n  - path: ../x" }, /modules\[0\]\.path "\.\.\/x"/);
    rejects({ bufYaml: "version: v2\nmodules:\n  - path: /abs" }, /modules\[0\]\.path/);
    rejects({ bufYaml: "version: v2\nmodules: []" }, /`modules` is empty/);
    rejects(
      { bufYaml: "version: v2\nmodules:\n  - name: 3" },
      /modules\[0\]\.name must be a non-empty string/,
    );
  });
});

describe("buf.lock", () => {
  it("reads v1 pins", () => {
    const pins = parseBufLock(
      [
        "# Generated by buf. DO NOT EDIT.",
        "version: v1",
        "deps:",
        "  - remote: buf.build",
        "    owner: acme",
        "    repository: money",
        `    commit: ${commitA}`,
        "    digest: shake256:abcd",
      ].join("\n"),
    );
    assert.deepEqual(pins, new Map([["acme/money", commitA]]));
  });

  it("reads v2 pins", () => {
    const pins = parseBufLock(
      [
        "version: v2",
        "deps:",
        "  - name: buf.build/acme/money",
        `    commit: ${commitA}`,
        "    digest: b5:abcd",
        "  - name: acme/units",
        `    commit: ${commitB}`,
      ].join("\n"),
    );
    assert.deepEqual(
      pins,
      new Map([
        ["acme/money", commitA],
        ["acme/units", commitB],
      ]),
    );
  });

  it("reads a lock without deps", () => {
    assert.deepEqual(parseBufLock("version: v2\n"), new Map());
  });

  it("is read by parseBufConfig", () => {
    const config = parseBufConfig({
      bufYaml: "version: v2\ndeps: [acme/money]",
      bufLock: `version: v2\ndeps:\n  - name: buf.build/acme/money\n    commit: ${commitA}`,
    });
    assert.equal(config.pins.get("acme/money"), commitA);
  });

  it("refuses bad shapes, naming buf.lock", () => {
    const bad = (bufLock: string, pattern: RegExp) => rejects({ bufYaml: "version: v2", bufLock }, pattern);
    bad("version: v3", /^buf\.lock: version "v3" is not supported/);
    bad("version: v2\ndeps: {}", /^buf\.lock: deps must be a list, not a mapping/);
    bad("version: v2\ndeps:\n  - commit: x", /^buf\.lock: deps\[0\]\.name must be a non-empty string/);
    bad(
      `version: v1\ndeps:\n  - owner: acme\n    commit: ${commitA}`,
      /^buf\.lock: deps\[0\]\.repository must be/,
    );
    bad(
      "version: v2\ndeps:\n  - name: acme/xy\n    commit: main",
      /deps\[0\]\.commit "main" is not a commit id/,
    );
    bad(
      `version: v2\ndeps:\n  - name: acme/xy\n    commit: ${commitA}\n  - name: h.io/acme/xy\n    commit: ${commitB}`,
      /pins acme\/xy twice/,
    );
    bad("deps: [", /^buf\.lock: is not valid YAML/);
  });
});
