import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goImportOptions, goModulePath, goPackageName, joinParameter } from "./go-paths.js";

describe("go paths", () => {
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
    assert.equal(joinParameter("paths=source_relative", ["Ma=b"]), "paths=source_relative,Ma=b");
    assert.equal(joinParameter("", ["Ma=b"]), "Ma=b");
  });
});
