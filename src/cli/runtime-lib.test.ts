// --runtime-lib: every ecosystem's form parses into the API's RuntimeLibraries; anything else is refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRuntimeLib, runtimeLibrariesOf } from "./runtime-lib.js";

test("rust:CRATE@REQUIREMENT beside the other ecosystems", () => {
  const libs = ["rust:prost@0.11", "rust:prost-types@>=0.11, <0.12", "python:protobuf@>=3.20"].map(
    parseRuntimeLib,
  );
  const api = runtimeLibrariesOf(libs);
  assert.deepEqual(api.rust, [
    { crate: "prost", version: "0.11" },
    { crate: "prost-types", version: ">=0.11, <0.12" },
  ]);
  assert.deepEqual(api.python, [{ package: "protobuf", version: ">=3.20" }]);
  for (const bad of ["rust:prost", "cargo:prost@0.11", "rust:@0.11"]) {
    assert.throws(() => parseRuntimeLib(bad), /invalid --runtime-lib/, bad);
  }
});
