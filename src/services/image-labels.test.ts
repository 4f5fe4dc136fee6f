// How image labels name runtime libraries and their ecosystems (BSR's labels, plus our ecosystem label).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import { runtimeLibrariesFromLabels } from "./image-labels.js";

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
    /image label build\.buf\.plugins\.runtime_library_versions\.0\.version is "4\.25\.0": a python runtime library's version must be a PEP 440 specifier/,
  );
  refused(
    {
      ...lib(0, "protobuf-java", "3.21.12"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "maven",
    },
    /a Maven library is named GROUP:ARTIFACT/,
  );
  refused({ "build.buf.plugins.runtime_library_versions.0.name": "x" }, /needs both \.name and \.version/);
  refused(
    lib(0, "google.golang.org/protobuf", "1.28.1"),
    /runtime_library_versions\.0\.version is "1\.28\.1"/,
  );
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

test("labels that would inject lines into consumers' go.mod, package.json or METADATA are refused, naming the label", () => {
  const refused = (labels: Record<string, string>, message: RegExp) =>
    assert.throws(
      () => runtimeLibrariesFromLabels(labels),
      (err: unknown) => isRegistryError(err, Code.InvalidArgument) && message.test(err.message),
    );
  const goName =
    /image label build\.buf\.plugins\.runtime_library_versions\.1\.name is .*a go runtime library's name/;
  const goVersion = /runtime_library_versions\.1\.version is .*a go runtime library's version/;
  const ok = lib(0, "google.golang.org/protobuf", "v1.28.1");
  refused({ ...ok, ...lib(1, "example.com/x v1.0.0\n)\ngo 1.99\nreplace example.com/x", "v1.0.0") }, goName);
  refused({ ...ok, ...lib(1, "example.com/x", "v1.0.0\ngo 1.99") }, goVersion);
  refused({ ...ok, ...lib(1, "example.com/x", "v1.0.0 // x") }, goVersion);
  refused({ ...ok, ...lib(1, "example.com/a b", "v1.0.0") }, goName);
  refused({ ...ok, ...lib(1, "example.com//a", "v1.0.0") }, goName);
  refused({ ...ok, ...lib(1, "example.com/../a", "v1.0.0") }, goName);
  refused({ ...ok, ...lib(1, "Example.com/a", "v1.0.0") }, goName);
  refused(
    { ...lib(0, "left-pad", "1.0.0"), ...lib(1, "x", "github:evil/x") },
    /runtime_library_versions\.1\.version is "github:evil\/x": a npm runtime library's version must be a semver/,
  );
  refused({ ...lib(0, "x", "^1.0.0\n") }, /runtime_library_versions\.0\.version/);
  refused({ ...lib(0, "X", "^1.0.0") }, /runtime_library_versions\.0\.name is "X"/);
  refused(
    {
      ...lib(0, "protobuf", ">=4\nRequires-Dist: evil"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "python",
    },
    /runtime_library_versions\.0\.version/,
  );
  refused(
    {
      ...lib(0, "protobuf; os_name=='nt'", ">=4"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "python",
    },
    /runtime_library_versions\.0\.name/,
  );
  refused(
    {
      ...lib(0, "com.x:y", "1.0</version>"),
      "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "maven",
    },
    /runtime_library_versions\.0\.version is "1\.0<\/version>": a maven runtime library's version/,
  );
  // What real plugins use still passes: pseudo-versions, +incompatible, major version suffixes.
  assert.deepEqual(
    runtimeLibrariesFromLabels({
      ...lib(0, "github.com/golang/protobuf", "v1.5.0-0.20210101000000-abcdefabcdef"),
      ...lib(1, "github.com/x/y/v2", "v2.0.0+incompatible"),
    }).go?.length,
    2,
  );
});

test("ruby libraries by the ecosystem label: gem names and requirements with their operators", () => {
  const labels = {
    ...lib(0, "google-protobuf", "~> 3.21"),
    "dev.protodepot.plugins.runtime_library_versions.0.ecosystem": "ruby",
  };
  assert.deepEqual(runtimeLibrariesFromLabels(labels), {
    ruby: [{ package: "google-protobuf", version: "~> 3.21" }],
  });
  assert.throws(
    () => runtimeLibrariesFromLabels({ ...labels, ...lib(0, "google-protobuf", "3.21\nx") }),
    (err: unknown) => isRegistryError(err, Code.InvalidArgument) && /RubyGems requirement/.test(err.message),
  );
});
