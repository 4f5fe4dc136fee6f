import assert from "node:assert/strict";
import { it } from "node:test";
import type { PluginVersion } from "../core/types.js";
import { flavoursFor } from "./pregenerate.js";

const plugin = (runtimeLibraries: PluginVersion["runtimeLibraries"]): PluginVersion => ({
  pluginId: "p",
  owner: "protocolbuffers",
  name: "python",
  version: "v3.21.12",
  source: { kind: "protoc", generator: "python", version: "3.21.12" },
  runtimeLibraries,
  registryOptions: {},
  createdAt: "",
});

it("pre-generates wheels for templates with a Python runtime, archives always", () => {
  assert.deepEqual(
    flavoursFor([plugin({ python: [{ package: "protobuf", version: ">=3.20" }] }), plugin({})]),
    ["archive", "pypi"],
  );
  assert.deepEqual(flavoursFor([plugin({ npm: [{ package: "@bufbuild/protobuf", version: "^2" }] })]), [
    "archive",
    "npm",
  ]);
  assert.deepEqual(flavoursFor([plugin({ ruby: [{ package: "google-protobuf", version: "~> 3.21" }] })]), [
    "archive",
    "rubygems",
  ]);
  assert.deepEqual(flavoursFor([plugin({})]), ["archive"]);
});

it("pre-generates CMake archives for C++ plugins: protoc's cpp, or a plugin declaring the ecosystem cpp", () => {
  const cpp = {
    ...plugin({}),
    name: "cpp",
    source: { kind: "protoc", generator: "cpp", version: "3.21.12" },
  } as const;
  assert.deepEqual(flavoursFor([cpp]), ["archive", "cmake"]);
  const grpc: PluginVersion = {
    ...plugin({}),
    owner: "grpc",
    name: "cpp",
    source: { kind: "host", command: ["grpc_cpp_plugin"] },
    registryOptions: { ecosystem: "cpp" },
  };
  assert.deepEqual(flavoursFor([cpp, grpc]), ["archive", "cmake"]);
  assert.deepEqual(flavoursFor([{ ...grpc, registryOptions: {} }]), ["archive"]);
});
