import assert from "node:assert/strict";
import { test } from "node:test";
import { checkEcosystemOption, pluginEcosystem } from "./plugin-ecosystem.js";
import type { PluginVersion } from "./types.js";

const host: PluginVersion["source"] = { kind: "host", command: ["/bin/x"] };
const version = (over: Partial<Pick<PluginVersion, "registryOptions" | "runtimeLibraries" | "source">>) => ({
  registryOptions: {},
  runtimeLibraries: {},
  source: host,
  ...over,
});

test("a declared ecosystem wins over runtime libraries", () => {
  assert.equal(pluginEcosystem(version({ registryOptions: { ecosystem: "go" } })), "go");
  const npmLib = { npm: [{ package: "@bufbuild/protobuf", version: "2.2.0" }] };
  assert.equal(
    pluginEcosystem(version({ registryOptions: { ecosystem: "go" }, runtimeLibraries: npmLib })),
    "go",
  );
});

test("without a declaration, the runtime libraries and then the protoc generator decide", () => {
  const goLib = { go: [{ module: "google.golang.org/protobuf", version: "v1.28.1" }] };
  assert.equal(pluginEcosystem(version({ runtimeLibraries: goLib })), "go");
  assert.equal(
    pluginEcosystem(version({ runtimeLibraries: goLib, registryOptions: { go: { plugin: false } } })),
    undefined,
  );
  assert.equal(pluginEcosystem(version({ registryOptions: { go: { plugin: true } } })), "go");
  assert.equal(
    pluginEcosystem(version({ source: { kind: "protoc", generator: "python", version: "3.21.12" } })),
    "python",
  );
  assert.equal(
    pluginEcosystem(version({ source: { kind: "protoc", generator: "cpp", version: "3.21.12" } })),
    "cpp",
  );
  assert.equal(pluginEcosystem(version({ registryOptions: { ecosystem: "cpp" } })), "cpp");
  assert.equal(pluginEcosystem(version({})), undefined);
});

test("an unknown ecosystem is refused where options are accepted", () => {
  assert.throws(
    () => checkEcosystemOption({ ecosystem: "golang" }),
    /"golang" is not one of go, npm, python, maven, ruby/,
  );
  assert.deepEqual(checkEcosystemOption({ ecosystem: "npm" }), { ecosystem: "npm" });
});
