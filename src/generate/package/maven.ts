// The Maven repository's artifact: the generated Java compiled (sandboxed javac) into a deterministic jar, and the
// pom that names its runtime library and each dependency module's own artifact.
import { webcrypto } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { Code, RegistryError } from "../../core/errors.js";
import { digestYielding } from "../../core/hashing.js";
import type { MavenRuntimeLibrary } from "../../core/types.js";
import { type MavenArtifactParts, mavenArtifactId, mavenVersion } from "../../ecosystems/maven/names.js";
import { createJar } from "../../packaging/jar.js";
import type { JavaCompiler } from "../java/javac.js";
import type { PackageContext, Packager } from "./packager.js";

/** The checksum files Maven fetches beside every file: lowercase hex, nothing else. */
export async function mavenChecksums(bytes: Uint8Array): Promise<{ sha1: string; md5: string }> {
  // A jar is up to plugins.maxOutputBytes of a plugin's making: hashed without holding the event loop.
  const [sha1, md5] = await Promise.all([
    webcrypto.subtle.digest("SHA-1", bytes),
    digestYielding("md5", bytes),
  ]);
  return { sha1: Buffer.from(sha1).toString("hex"), md5: md5.toString("hex") };
}

export interface MavenCoordinate {
  groupId: string;
  artifactId: string;
  version: string;
}

/**
 * The pom's dependencies: every Maven runtime library of the plugins (the later plugin wins when two name one
 * library at different versions: it is the one whose output needs it), then every dependency module's artifact
 * (transitive ones too, pinned as npm pins them, so Maven's nearest-wins mediation cannot pick other versions).
 */
export function mavenDependencies(ctx: PackageContext, groupId: string): MavenCoordinate[] {
  const byKey = new Map<string, MavenCoordinate>();
  for (const plugin of ctx.plugins) {
    for (const lib of plugin.runtimeLibraries.maven ?? []) {
      byKey.set(`${lib.groupId}:${lib.artifactId}`, { ...lib });
    }
  }
  const own = [...byKey.values()];
  const modules = ctx.deps.map((d) => ({
    groupId,
    artifactId: mavenArtifactId({
      templateOwner: ctx.template.owner,
      templateName: ctx.template.name,
      moduleOwner: d.owner,
      moduleName: d.module,
    }),
    version: mavenVersion({ templateVersion: ctx.templateVersion.number, commitSeq: d.seq }),
  }));
  const byName = (a: MavenCoordinate, b: MavenCoordinate) => {
    const x = `${a.groupId}:${a.artifactId}`;
    const y = `${b.groupId}:${b.artifactId}`;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return [...own.sort(byName), ...modules.sort(byName)];
}

const xmlEscapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};
export const xml = (text: string) => text.replace(/[&<>"']/g, (c) => xmlEscapes[c] ?? c);

/** One line naming what an artifact holds (the pom's description). */
export function mavenDescription(p: MavenArtifactParts, commitId: string, templateVersion: number): string {
  return `Generated code of module ${p.moduleOwner}/${p.moduleName} (commit ${commitId}) by template ${p.templateOwner}/${p.templateName} v${templateVersion}`;
}

/** The pom, with a fixed layout so its bytes depend only on the inputs. */
export function renderPom(ctx: PackageContext, groupId: string): string {
  const parts = {
    templateOwner: ctx.template.owner,
    templateName: ctx.template.name,
    moduleOwner: ctx.commit.owner,
    moduleName: ctx.commit.module,
  };
  const deps = mavenDependencies(ctx, groupId)
    .map(
      (d) =>
        `    <dependency>\n      <groupId>${xml(d.groupId)}</groupId>\n      <artifactId>${xml(d.artifactId)}</artifactId>\n` +
        `      <version>${xml(d.version)}</version>\n    </dependency>\n`,
    )
    .join("");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">\n' +
    "  <modelVersion>4.0.0</modelVersion>\n" +
    `  <groupId>${xml(groupId)}</groupId>\n` +
    `  <artifactId>${xml(mavenArtifactId(parts))}</artifactId>\n` +
    `  <version>${xml(mavenVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq }))}</version>\n` +
    "  <packaging>jar</packaging>\n" +
    `  <description>${xml(mavenDescription(parts, ctx.commit.id, ctx.templateVersion.number))}</description>\n` +
    (deps ? `  <dependencies>\n${deps}  </dependencies>\n` : "") +
    "</project>\n"
  );
}

/**
 * Where a runtime library's jar is on this server: `{repository}/{group path}/{artifactId}/{version}/{artifactId}-{version}.jar`
 * of a local Maven repository (Debian's /usr/share/maven-repo has protobuf-java from libprotobuf-java). Its own
 * dependencies are not looked up: the consumer's Maven resolves them from the pom; javac needs only what the
 * generated code names.
 */
export function runtimeJarPath(repository: string, lib: MavenRuntimeLibrary): string {
  return join(
    repository,
    ...lib.groupId.split("."),
    lib.artifactId,
    lib.version,
    `${lib.artifactId}-${lib.version}.jar`,
  );
}

export interface MavenPackagerOptions {
  compiler: JavaCompiler;
  groupId: string;
  /** The local Maven repository runtime library jars are read from (config maven.runtimeRepository). */
  runtimeRepository: string;
}

export function createMavenPackager(opts: MavenPackagerOptions): Packager<"maven"> {
  return {
    flavour: "maven",
    // Dependency modules are artifacts of their own, named in the pom and on the compile classpath.
    fixedScope: "module",
    needsDependencyArtifacts: true,
    async package(files, ctx) {
      const label = `javac of ${ctx.commit.owner}/${ctx.commit.module} ${mavenVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq })} (template ${ctx.template.owner}/${ctx.template.name})`;
      const runtimeJars: string[] = [];
      for (const plugin of ctx.plugins) {
        for (const lib of plugin.runtimeLibraries.maven ?? []) {
          const path = runtimeJarPath(opts.runtimeRepository, lib);
          if (!existsSync(path)) {
            throw new RegistryError(
              Code.FailedPrecondition,
              `${label}: runtime library ${lib.groupId}:${lib.artifactId}:${lib.version} of plugin ${plugin.owner}/${plugin.name}:${plugin.version} is not in ${opts.runtimeRepository} (maven.runtimeRepository); for protobuf-java: apt-get install libprotobuf-java`,
              { plugin: `${plugin.owner}/${plugin.name}` },
            );
          }
          runtimeJars.push(realpathSync(path));
        }
      }
      const classpath = ctx.deps.map((d) => {
        const jar = ctx.dependencyArtifacts?.get(d.commitId);
        if (!jar) {
          throw new RegistryError(
            Code.Internal,
            `${label}: the jar of dependency ${d.owner}/${d.module} (commit ${d.commitId}) was not generated first`,
          );
        }
        return jar;
      });
      const sources = files.filter((f) => f.path.endsWith(".java"));
      // Anything else a plugin writes (descriptors, resources) goes into the jar as it is.
      const resources = files.filter((f) => !f.path.endsWith(".java"));
      const classes = await opts.compiler.compile({
        sources,
        classpath,
        runtimeJars: [...new Set(runtimeJars)],
        label,
      });
      const bytes = await createJar([...classes, ...resources]);
      const pom = renderPom(ctx, opts.groupId);
      const pomSums = await mavenChecksums(new TextEncoder().encode(pom));
      const jarSums = await mavenChecksums(bytes);
      // The pom and every checksum are kept beside the jar, so the pom and .sha1/.md5 are served from the record.
      return {
        bytes,
        extra: {
          sha1: jarSums.sha1,
          md5: jarSums.md5,
          pom,
          pomSha1: pomSums.sha1,
          pomMd5: pomSums.md5,
          dependencies: JSON.stringify(mavenDependencies(ctx, opts.groupId)),
        },
      };
    },
  };
}
