// Cargo naming: crate names split back into their four names, index paths, the only version shape we serve, and
// prost's module names of package components.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cargoCrateName,
  cargoIndexPath,
  cargoLibName,
  parseCargoCrateName,
  parseCargoIndexPath,
  parseCargoVersion,
  rustModuleName,
} from "./names.js";

describe("cargo names, index paths and versions", () => {
  const parts = {
    template: { owner: "protodepot", name: "rust" },
    module: { owner: "demo", name: "pay-ments" },
  };

  it("joins the four names with _ and splits them back; anything else is not ours", () => {
    assert.equal(cargoCrateName(parts), "protodepot_rust_demo_pay-ments");
    assert.deepEqual(parseCargoCrateName("protodepot_rust_demo_pay-ments"), parts);
    assert.equal(cargoLibName("protodepot_rust_demo_pay-ments"), "protodepot_rust_demo_pay_ments");
    for (const other of [
      "prost",
      "prost-types",
      "a_b_c",
      "a_b_c_d_e",
      "pr_rust_demo_x",
      "Protodepot_rust_demo_x",
    ]) {
      assert.equal(parseCargoCrateName(other), undefined, other);
    }
  });

  it("has no crate for a template owner starting with a digit (cargo refuses such names)", () => {
    assert.equal(cargoCrateName({ ...parts, template: { owner: "9fans", name: "rust" } }), undefined);
    assert.equal(parseCargoCrateName("9fans_rust_demo_money"), undefined);
  });

  it("puts index files where cargo looks, and reads back only those paths", () => {
    assert.equal(cargoIndexPath("a"), "1/a");
    assert.equal(cargoIndexPath("ab"), "2/ab");
    assert.equal(cargoIndexPath("abc"), "3/a/abc");
    assert.equal(cargoIndexPath("protodepot_rust_demo_money"), "pr/ot/protodepot_rust_demo_money");
    assert.equal(cargoIndexPath("Serde"), "se/rd/serde");
    assert.equal(parseCargoIndexPath("pr/ot/protodepot_rust_demo_money"), "protodepot_rust_demo_money");
    for (const bad of [
      "pr/ox/protodepot_rust_demo_money",
      "protodepot_rust_demo_money",
      "pr/ot/",
      "se/rd/Serde",
      "3/b/abc",
    ]) {
      assert.equal(parseCargoIndexPath(bad), undefined, bad);
    }
  });

  it("reads only 1.{t}.{seq} as a version", () => {
    assert.deepEqual(parseCargoVersion("1.2.7"), { templateVersion: 2, commitSeq: 7 });
    for (const bad of ["1.0.1", "1.02.1", "2.1.1", "1.1.1-rc1", "1.1.1+b", "v1.1.1", "1.1"]) {
      assert.equal(parseCargoVersion(bad), undefined, bad);
    }
  });

  it("names modules as prost does: keywords raw or suffixed, anything not snake_case refused", () => {
    assert.equal(rustModuleName("v1"), "v1");
    assert.equal(rustModuleName("money_v2"), "money_v2");
    assert.equal(rustModuleName("type"), "r#type");
    assert.equal(rustModuleName("self"), "self_");
    for (const bad of ["FooBar", "_x", "x_", "a__b", "1a", ""])
      assert.equal(rustModuleName(bad), undefined, bad);
  });
});
