// Go naming: module paths, import-path options, package names, case-escaping and versions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import {
  escapeGoPath,
  goImportOptions,
  goModulePath,
  goPackageName,
  parseGoModulePath,
  parseGoVersion,
  unescapeGoPath,
} from "./names.js";

const host = "buf.example.com";
const code = (fn: () => unknown): Code | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isRegistryError(err) ? err.code : undefined;
  }
};

describe("go names", () => {
  it("builds module paths from the go host, template and module", () => {
    const path = goModulePath({
      goHost: "gen.acme.dev",
      templateOwner: "protodepot",
      templateName: "go",
      moduleOwner: "demo",
      moduleName: "payments",
    });
    assert.equal(path, "gen.acme.dev/protodepot/go/demo/payments");
  });

  it("derives valid Go package names from directories", () => {
    assert.equal(goPackageName("demo/payments/v1", "payments"), "paymentsv1");
    assert.equal(goPackageName("acme/pay", "pay"), "pay");
    assert.equal(goPackageName("v1", "money"), "v1");
    assert.equal(goPackageName(".", "my-module"), "my_module");
    assert.equal(goPackageName("x/2fa", "m"), "_2fa");
    assert.equal(goPackageName("a/b-c.d", "m"), "b_c_d");
  });

  it("maps each file to its directory's import path", () => {
    assert.deepEqual(
      goImportOptions("h.dev/t/go/demo/money", "money", ["demo/money/v1/money.proto", "root.proto"]),
      [
        "Mdemo/money/v1/money.proto=h.dev/t/go/demo/money/demo/money/v1;moneyv1",
        "Mroot.proto=h.dev/t/go/demo/money;money",
      ],
    );
  });

  it("escapes and unescapes like golang.org/x/mod/module", () => {
    assert.equal(escapeGoPath("github.com/Azure/SDK"), "github.com/!azure/!s!d!k");
    assert.equal(unescapeGoPath("github.com/!azure/!s!d!k"), "github.com/Azure/SDK");
    assert.equal(unescapeGoPath("github.com/Azure"), undefined);
    assert.equal(unescapeGoPath("a/!!b"), undefined);
    assert.equal(unescapeGoPath("a/b!"), undefined);
  });

  it("tells malformed versions (400) from well-formed ones that cannot exist (404)", () => {
    const m = parseGoModulePath(`${host}/acme/go/demo/payments`, host);
    assert.deepEqual(parseGoVersion("v1.2.30", m), { templateVersion: 2, commitSeq: 30 });
    for (const v of ["v1.x.1", "main", "1.2.3", "v1.02.3", "v1.2"])
      assert.equal(
        code(() => parseGoVersion(v, m)),
        Code.InvalidArgument,
        v,
      );
    for (const v of [
      "v2.0.0",
      "v1.0.1",
      "v1.2.0",
      "v0.0.0-20240101000000-abcdefabcdef",
      "v1.2.3+incompatible",
    ]) {
      assert.equal(
        code(() => parseGoVersion(v, m)),
        Code.NotFound,
        v,
      );
    }
  });
});
