import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import type { PluginVersion, Template, TemplateVersion } from "../../core/types.js";
import type { JavaCompileInput, JavaCompiler } from "../java/javac.js";
import { fixtureCommit } from "../testing/package-fixtures.js";
import {
  createMavenPackager,
  mavenChecksums,
  mavenDependencies,
  renderPom,
  runtimeJarPath,
} from "./maven.js";
import type { PackageContext } from "./packager.js";

const java: PluginVersion = {
  pluginId: "p1",
  owner: "protocolbuffers",
  name: "java",
  version: "v3.21.12",
  source: { kind: "protoc", generator: "java", version: "3.21.12" },
  runtimeLibraries: {
    maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" }],
  },
  registryOptions: {},
  createdAt: "2024-01-01T00:00:00Z",
};
const grpc: PluginVersion = {
  ...java,
  owner: "grpc",
  name: "java",
  version: "v1.41.3",
  source: { kind: "host", command: ["grpc_java_plugin"] },
  runtimeLibraries: {
    maven: [
      { groupId: "io.grpc", artifactId: "grpc-stub", version: "1.41.3" },
      { groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" },
    ],
  },
};
const template: Template = {
  id: "t1",
  owner: "protodepot",
  name: "java",
  visibility: "public",
  plugins: [{ owner: "protocolbuffers", name: "java", parameter: "" }],
  createdAt: "2024-01-01T00:00:00Z",
};
const templateVersion: TemplateVersion = { templateId: "t1", number: 3, plugins: [], createdAt: "" };
const commit = fixtureCommit;
const money = "a".repeat(32);
const base = "b".repeat(32);

function context(over: Partial<PackageContext> = {}): PackageContext {
  return {
    template,
    templateVersion,
    commit,
    // Deepest first, as the generation service lists them: base ← money ← payments.
    deps: [
      { commitId: base, owner: "acme", module: "base", seq: 1, direct: false },
      { commitId: money, owner: "demo", module: "money", seq: 2, direct: true },
    ],
    plugins: [java],
    scope: "module",
    goHost: "protodepot.local",
    npmScope: "protodepot",
    dependencyArtifacts: new Map([
      [base, new Uint8Array([1])],
      [money, new Uint8Array([2])],
    ]),
    ...over,
  };
}

describe("maven checksums", () => {
  it("computes the .sha1 and .md5 Maven checks", async () => {
    assert.deepEqual(await mavenChecksums(new TextEncoder().encode("hello")), {
      sha1: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
      md5: "5d41402abc4b2a76b9719d911017c592",
    });
  });
});

describe("maven pom", () => {
  it("names each runtime library once, then every dependency module's artifact at its synthetic version", () => {
    assert.deepEqual(mavenDependencies(context({ plugins: [java, grpc] }), "protodepot.gen"), [
      { groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" },
      { groupId: "io.grpc", artifactId: "grpc-stub", version: "1.41.3" },
      { groupId: "protodepot.gen", artifactId: "protodepot_java_acme_base", version: "1.3.1" },
      { groupId: "protodepot.gen", artifactId: "protodepot_java_demo_money", version: "1.3.2" },
    ]);
  });

  it("renders the coordinates, a description naming the commit, and the dependencies, escaped", () => {
    const pom = renderPom(context(), "com.acme&co");
    assert.match(
      pom,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<project xmlns="http:\/\/maven.apache.org\/POM\/4.0.0"/,
    );
    assert.match(
      pom,
      /<groupId>com\.acme&amp;co<\/groupId>\n {2}<artifactId>protodepot_java_demo_payments<\/artifactId>\n {2}<version>1\.3\.7<\/version>/,
    );
    assert.match(
      pom,
      /<description>Generated code of module demo\/payments \(commit c{32}\) by template protodepot\/java v3<\/description>/,
    );
    assert.match(pom, /<artifactId>protobuf-java<\/artifactId>\n {6}<version>3\.21\.12<\/version>/);
    assert.match(
      pom,
      /<artifactId>protodepot_java_demo_money<\/artifactId>\n {6}<version>1\.3\.2<\/version>/,
    );
    assert.equal(renderPom(context(), "g"), renderPom(context(), "g"));
    assert.doesNotMatch(renderPom(context({ deps: [], plugins: [] }), "g"), /<dependencies>/);
  });

  it("finds runtime jars in a local Maven repository by their coordinates", () => {
    assert.equal(
      runtimeJarPath("/usr/share/maven-repo", {
        groupId: "com.google.protobuf",
        artifactId: "protobuf-java",
        version: "3.21.12",
      }),
      "/usr/share/maven-repo/com/google/protobuf/protobuf-java/3.21.12/protobuf-java-3.21.12.jar",
    );
  });
});

describe("maven packager", () => {
  const seen: JavaCompileInput[] = [];
  const compiler: JavaCompiler = {
    async compile(input) {
      seen.push(input);
      return input.sources.map((s) => ({ path: s.path.replace(/\.java$/, ".class"), content: s.content }));
    },
    close() {},
  };
  const file = (path: string) => ({ path, content: new TextEncoder().encode(path) });

  it("compiles the sources against every dependency's jar and the runtime jars, and keeps pom and checksums beside", async () => {
    // A local repository with the runtime jar at its coordinates (the compiler here is a stand-in, so any bytes do).
    const repo = await mkdtemp(join(tmpdir(), "protodepot-maven-repo-"));
    const lib = { groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" };
    await mkdir(dirname(runtimeJarPath(repo, lib)), { recursive: true });
    await writeFile(runtimeJarPath(repo, lib), "jar");
    const packager = createMavenPackager({ compiler, groupId: "protodepot.gen", runtimeRepository: repo });
    const out = await packager.package(
      [file("demo/payments/v1/Payments.java"), file("demo/payments/v1/notes.txt")],
      context(),
    );
    const input = seen.at(-1);
    assert.deepEqual(
      input?.sources.map((s) => s.path),
      ["demo/payments/v1/Payments.java"],
    );
    assert.deepEqual(
      input?.classpath.map((j) => [...j]),
      [[1], [2]],
    );
    assert.deepEqual(input?.runtimeJars, [runtimeJarPath(await realpath(repo), lib)]);
    assert.deepEqual(out.extra.sha1, createHash("sha1").update(out.bytes).digest("hex"));
    assert.deepEqual(out.extra.md5, createHash("md5").update(out.bytes).digest("hex"));
    assert.equal(out.extra.pom, renderPom(context(), "protodepot.gen"));
    assert.equal(
      out.extra.pomSha1,
      createHash("sha1")
        .update(out.extra.pom ?? "")
        .digest("hex"),
    );
    assert.deepEqual(
      JSON.parse(out.extra.dependencies ?? ""),
      mavenDependencies(context(), "protodepot.gen"),
    );
    await rm(repo, { recursive: true, force: true });
  });

  it("refuses a runtime library missing from the local repository, naming it and the package that brings it", async () => {
    const packager = createMavenPackager({ compiler, groupId: "g", runtimeRepository: "/nonexistent/repo" });
    await assert.rejects(
      packager.package([file("A.java")], context()),
      (err) =>
        isRegistryError(err, Code.FailedPrecondition) &&
        /runtime library com\.google\.protobuf:protobuf-java:3\.21\.12 of plugin protocolbuffers\/java:v3\.21\.12 is not in \/nonexistent\/repo \(maven\.runtimeRepository\)/.test(
          err.message,
        ),
    );
  });

  it("needs the dependencies' jars handed over, generated first", async () => {
    const packager = createMavenPackager({ compiler, groupId: "g", runtimeRepository: "/nonexistent/repo" });
    assert.equal(packager.needsDependencyArtifacts, true);
    await assert.rejects(
      packager.package([file("A.java")], context({ plugins: [], dependencyArtifacts: new Map() })),
      /the jar of dependency acme\/base \(commit b{32}\) was not generated first/,
    );
  });
});
