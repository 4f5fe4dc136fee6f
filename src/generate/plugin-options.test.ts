import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { joinParameter } from "./plugin-options.js";

describe("plugin options", () => {
  it("joins a template's parameter and extra options with commas, as protoc plugins read them", () => {
    assert.equal(joinParameter("paths=source_relative", ["Ma=b"]), "paths=source_relative,Ma=b");
    assert.equal(joinParameter("", ["Ma=b"]), "Ma=b");
  });
});
