// How image labels name runtime libraries and their ecosystems (BSR's labels, plus our ecosystem label).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import { runtimeLibrariesFromLabels } from "./plugins.js";

const lib = (i: number, name: string, version: string) => ({
  [`build.buf.plugins.runtime_library_versions.${i}.name`]: name,
  [`build.buf.plugins.runtime_library_versions.${i}.version`]: version,
});

test("plain BSR labels: a dotted first path element is a Go module, anything else an npm package", () => {
  assert.deepEqual(
    runtimeLibrariesFromLabels({
      ...lib(0, "google.golang.org/protobuf", "v1.28.1"),
      ...lib(1, "@bufbuild/protobuf", "^2.2.0"),
      ...lib(2, "github.com/grpc-ecosystem/grpc-gateway/v2", "v2.16.0"),
      ...lib(3, "protobufjs", "7.2.0"),
      "org.opencontainers.image.title": "ignored",
    }),
    {
      go: [
        { module: "google.golang.org/protobuf", version: "v1.28.1" },
        { module: "github.com/grpc-ecosystem/grpc-gateway/v2", version: "v2.16.0" },
      ],
      npm: [
        { package: "@bufbuild/protobuf", version: "^2.2.0" },
        { package: "protobufjs", version: "7.2.0" },
      ],
    },
  );
  assert.deepEqual(runtimeLibrariesFromLabels({}), {});
});

test("the ecosystem label decides when set, and names outside go/npm are refused clearly", () => {
  assert.deepEqual(
    runtimeLibrariesFromLabels({
      ...lib(0, "example.com", "1.0.0"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "npm",
    }),
    { npm: [{ package: "example.com", version: "1.0.0" }] },
  );
  const refused = (labels: Record<string, string>, message: RegExp) =>
    assert.throws(
      () => runtimeLibrariesFromLabels(labels),
      (err: unknown) => isRegistryError(err, Code.InvalidArgument) && message.test(err.message),
    );
  refused(
    {
      ...lib(0, "protobuf", "4.25.0"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "cargo",
    },
    /ecosystem is "cargo": use one of go, npm, python, maven/,
  );
  refused(
    {
      ...lib(0, "protobuf", "4.25.0"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "python",
    },
    /invalid Python runtime library "protobuf 4\.25\.0": expected a project name and a PEP 440 specifier/,
  );
  refused(
    {
      ...lib(0, "protobuf-java", "3.21.12"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "maven",
    },
    /a Maven library is named GROUP:ARTIFACT/,
  );
  refused({ "build.buf.plugins.runtime_library_versions.0.name": "x" }, /needs both \.name and \.version/);
  refused(lib(0, "google.golang.org/protobuf", "1.28.1"), /invalid Go runtime library/);
});

test("python and maven libraries by the ecosystem label: PEP 440 specifiers, GROUP:ARTIFACT names", () => {
  assert.deepEqual(
    runtimeLibrariesFromLabels({
      ...lib(0, "protobuf", ">=3.20"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "python",
      ...lib(1, "grpcio", ">=1.51, <2"),
      "dev.protodepot.plugins.runtime_library_versions.1.ecosystem": "python",
      ...lib(2, "com.google.protobuf:protobuf-java", "3.21.12"),
      "dev.protodepot.plugins.runtime_library_versions.2.ecosystem": "maven",
    }),
    {
      python: [
        { package: "protobuf", version: ">=3.20" },
        { package: "grpcio", version: ">=1.51, <2" },
      ],
      maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" }],
    },
  );
});
