// The CMake packager: a CMakeLists.txt over the .pb.cc files that pins each dependency module's archive by SHA-256
// with the server's URL left to the consumer, and the same bytes on every run.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { readTarGz } from "../../packaging/tar.js";
import { fixtureCommit, fixtureTemplate, fixtureTemplateVersion } from "../testing/package-fixtures.js";
import { cmakePackager, createCmakeArchive } from "./cmake.js";
import type { PackageContext } from "./packager.js";

const template = fixtureTemplate("cpp");
const templateVersion = fixtureTemplateVersion;
const commit = fixtureCommit;
const moneyBytes = new TextEncoder().encode("money archive");

function context(over: Partial<PackageContext> = {}): PackageContext {
  return {
    template,
    templateVersion,
    commit,
    deps: [{ commitId: "b".repeat(32), owner: "demo", module: "money", seq: 3, direct: true }],
    plugins: [],
    scope: "module",
    goHost: "protodepot.local",
    npmScope: "protodepot",
    dependencyArtifacts: new Map([["b".repeat(32), moneyBytes]]),
    ...over,
  };
}

const encoder = new TextEncoder();
const files = [
  { path: "demo/payments/v1/payments.pb.h", content: encoder.encode("// h\n") },
  { path: "demo/payments/v1/payments.pb.cc", content: encoder.encode("// cc\n") },
];

describe("cmake packager", () => {
  it("writes a CMakeLists.txt with the library, FindProtobuf, and each dependency pinned by SHA-256 under PROTODEPOT_URL", async () => {
    const entries = await readTarGz(await createCmakeArchive(files, context()));
    assert.deepEqual(
      entries.map((e) => e.path),
      ["CMakeLists.txt", "demo/payments/v1/payments.pb.cc", "demo/payments/v1/payments.pb.h"],
    );
    const lists = new TextDecoder().decode(entries[0]?.content);
    const sha = createHash("sha256").update(moneyBytes).digest("hex");
    for (const line of [
      "project(protodepot_cpp_demo_payments VERSION 1.2.7 LANGUAGES CXX)",
      "  find_package(Protobuf 3.21 REQUIRED)",
      `FetchContent_Declare(protodepot_cpp_demo_money\n  URL "\${PROTODEPOT_URL}/cmake/protodepot/cpp/demo/money/1.2.3.tar.gz"\n  URL_HASH SHA256=${sha}\n)`,
      "FetchContent_MakeAvailable(protodepot_cpp_demo_money)",
      'add_library(protodepot_cpp_demo_payments\n  "demo/payments/v1/payments.pb.cc"\n)',
      "add_library(protodepot::cpp_demo_payments ALIAS protodepot_cpp_demo_payments)",
      "target_link_libraries(protodepot_cpp_demo_payments PUBLIC protobuf::libprotobuf protodepot::cpp_demo_money)",
    ]) {
      assert.ok(lists.includes(line), `${line}\n---\n${lists}`);
    }
    const alone = new TextDecoder().decode(
      (await readTarGz(await createCmakeArchive(files, context({ deps: [] }))))[0]?.content,
    );
    assert.ok(!alone.includes("FetchContent"), alone);
    assert.ok(!lists.includes("gRPC"), "no gRPC without gRPC stubs");
  });

  it("links gRPC::grpc++ (found through gRPC's CMake package) when the output has gRPC's C++ stubs", async () => {
    const grpcFiles = [
      ...files,
      { path: "demo/payments/v1/payments.grpc.pb.h", content: encoder.encode("// h\n") },
      { path: "demo/payments/v1/payments.grpc.pb.cc", content: encoder.encode("// cc\n") },
    ];
    const ctx = context({ template: fixtureTemplate("cpp-grpc"), deps: [] });
    const lists = new TextDecoder().decode(
      (await readTarGz(await createCmakeArchive(grpcFiles, ctx)))[0]?.content,
    );
    for (const line of [
      "if(NOT TARGET gRPC::grpc++)\n  find_package(gRPC CONFIG REQUIRED)\nendif()",
      'add_library(protodepot_cpp-grpc_demo_payments\n  "demo/payments/v1/payments.grpc.pb.cc"\n  "demo/payments/v1/payments.pb.cc"\n)',
      "target_link_libraries(protodepot_cpp-grpc_demo_payments PUBLIC protobuf::libprotobuf gRPC::grpc++)",
    ]) {
      assert.ok(lists.includes(line), `${line}\n---\n${lists}`);
    }
  });

  it("gives the same bytes and sha256 every time", async () => {
    const a = await cmakePackager.package(files, context());
    const b = await cmakePackager.package([...files].reverse(), context());
    assert.deepEqual(a.bytes, b.bytes);
    assert.equal(a.extra.sha256, createHash("sha256").update(a.bytes).digest("hex"));
  });

  it("refuses output without C++ sources, a generated CMakeLists.txt, and a dependency archive not generated first", async () => {
    const unprocessable = (err: unknown) => isRegistryError(err, Code.Unprocessable);
    await assert.rejects(createCmakeArchive(files.slice(0, 1), context()), unprocessable);
    await assert.rejects(
      createCmakeArchive([...files, { path: "CMakeLists.txt", content: new Uint8Array() }], context()),
      unprocessable,
    );
    await assert.rejects(createCmakeArchive(files, context({ dependencyArtifacts: new Map() })), (err) =>
      isRegistryError(err, Code.Internal),
    );
  });
});
