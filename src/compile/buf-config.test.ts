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

  it("reads module paths as buf does and refuses those outside the directory", () => {
    const root = (path: string) =>
      parseBufConfig({ bufYaml: `version: v2\nmodules:\n  - path: ${path}\n    name: h.io/acme/pay` }).root;
    assert.equal(root("./proto/"), "proto");
    assert.equal(root("a/../proto"), "proto");
    assert.equal(root("./"), ".");
    assert.equal(
      parseBufConfig({ bufYaml: "version: v2\nmodules:\n  - name: h.io/acme/pay" }).root,
      ".",
      "an entry without a path is the root",
    );
    rejects({ bufYaml: "version: v2\nmodules:\n  - path: ../x" }, /modules\[0\]\.path "\.\.\/x" is outside/);
    rejects({ bufYaml: "version: v2\nmodules:\n  - path: a/../../x" }, /is outside the directory pushed/);
    rejects({ bufYaml: "version: v2\nmodules:\n  - path: /abs" }, /modules\[0\]\.path "\/abs" is absolute/);
    rejects(
      { bufYaml: "version: v2\nmodules:\n  - path: sub\n  - path: ./sub/" },
      /modules lists path "sub" twice/,
    );
    rejects(
      { bufYaml: "version: v2\nmodules:\n  - name: 3" },
      /modules\[0\]\.name must be a non-empty string/,
    );
  });

  // What buf 1.74 accepts and refuses, checked with `buf build` and `buf push` against protodepot.
  it("takes a top-level name for the one module at the root, as buf does", () => {
    const top = parseBufConfig({ bufYaml: "version: v2\nname: 127.0.0.1:8080/acme/pay\n" });
    assert.deepEqual(top.name, { owner: "acme", name: "pay" });
    assert.equal(top.root, ".");
    // An empty modules list is no list: buf pushes that module under the top-level name too.
    const empty = parseBufConfig({ bufYaml: "version: v2\nname: h.io/acme/pay\nmodules: []\n" });
    assert.deepEqual([empty.name, empty.root], [{ owner: "acme", name: "pay" }, "."]);
    assert.equal(parseBufConfig({ bufYaml: 'version: v2\nname: ""\n' }).name, undefined);
    rejects(
      { bufYaml: "version: v2\nname: h.io/acme/pay\nmodules:\n  - path: ." },
      /top-level name cannot be used with `modules`: set `name` on each entry/,
    );
    rejects(
      { bufYaml: "version: v2\nname: h.io/acme/top\nmodules:\n  - path: .\n    name: h.io/acme/inner" },
      /top-level name cannot be used with `modules`/,
    );
  });

  it("wants HOST/OWNER/MODULE names, as buf does, and each name once", () => {
    rejects(
      { bufYaml: "version: v2\nname: acme/pay" },
      /^buf\.yaml: name "acme\/pay" must be HOST\/OWNER\/MODULE, as buf requires \(e\.g\. buf\.build\/acme\/pay/,
    );
    rejects(
      { bufYaml: "version: v2\nmodules:\n  - path: .\n    name: acme/pay" },
      /^buf\.yaml: modules\[0\]\.name "acme\/pay" must be HOST\/OWNER\/MODULE/,
    );
    rejects(
      { bufYaml: "version: v1\nname: acme/pay" },
      /^buf\.yaml: name "acme\/pay" must be HOST\/OWNER\/MODULE/,
    );
    rejects({ bufYaml: "version: v2\nname: /acme/pay" }, /must be HOST\/OWNER\/MODULE/);
    rejects({ bufYaml: "version: v2\nname: a/b/c/d" }, /must be HOST\/OWNER\/MODULE/);
    rejects(
      {
        bufYaml:
          "version: v2\nmodules:\n  - path: a\n    name: h.io/acme/dup\n  - path: b\n    name: x.io/acme/dup",
      },
      /modules lists the name acme\/dup twice/,
    );
    // Any host will do: every name is looked up in this registry.
    assert.deepEqual(parseBufConfig({ bufYaml: "version: v1\nname: localhost/acme/pay" }).name, {
      owner: "acme",
      name: "pay",
    });
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
