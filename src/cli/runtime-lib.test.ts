import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRuntimeLib, runtimeLibrariesOf } from "./runtime-lib.js";

describe("--runtime-lib", () => {
  it("reads each ecosystem's NAME@VERSION, a Ruby requirement with its spaces and operators", () => {
    const libs = [
      "go:google.golang.org/protobuf@v1.28.1",
      "npm:@bufbuild/protobuf@^2.0.0",
      "python:protobuf@>=3.20",
      "maven:com.google.protobuf:protobuf-java@3.21.12",
      "ruby:google-protobuf@~> 3.21",
    ].map(parseRuntimeLib);
    assert.deepEqual(runtimeLibrariesOf(libs), {
      go: [{ module: "google.golang.org/protobuf", version: "v1.28.1" }],
      npm: [{ package: "@bufbuild/protobuf", version: "^2.0.0" }],
      python: [{ package: "protobuf", version: ">=3.20" }],
      ruby: [{ package: "google-protobuf", version: "~> 3.21" }],
      maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" }],
    });
  });

  it("refuses an unknown ecosystem or a missing version, naming every form", () => {
    assert.throws(() => parseRuntimeLib("cargo:prost@0.11"), /ruby:GEM@REQUIREMENT/);
    assert.throws(() => parseRuntimeLib("ruby:google-protobuf"), /invalid --runtime-lib/);
  });
});
