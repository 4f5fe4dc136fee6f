// Reading Maven repository paths: `{group path}/{artifactId}/maven-metadata.xml` and
// `{group path}/{artifactId}/{version}/{artifactId}-{version}.{pom,jar}`, each with `.sha1` / `.md5` beside it.
import { Code, invalidArgument, RegistryError } from "../../core/errors.js";
import type { SyntheticVersion } from "../../core/synthetic-version.js";
import {
  type MavenArtifactParts,
  parseMavenArtifactId,
  parseMavenVersion,
} from "../../ecosystems/maven/names.js";

/** The file itself, or the checksum Maven fetches beside it. */
export type Checksum = "sha1" | "md5" | undefined;

interface VersionFile {
  artifactId: string;
  parts: MavenArtifactParts;
  version: SyntheticVersion;
  checksum: Checksum;
}

export type MavenTarget =
  | { endpoint: "metadata"; artifactId: string; parts: MavenArtifactParts; checksum: Checksum }
  | ({ endpoint: "pom" } & VersionFile)
  | ({ endpoint: "jar" } & VersionFile)
  | ({ endpoint: "sources" } & VersionFile);

/** Longest path this repository reads: group, artifactId (4 names of ≤ 64), version, file name. */
const maxPathLength = 1024;

const splitChecksum = (file: string): [string, Checksum] => {
  for (const c of ["sha1", "md5"] as const)
    if (file.endsWith(`.${c}`)) return [file.slice(0, -c.length - 1), c];
  return [file, undefined];
};

/**
 * Parses the path after `/maven/`. Paths outside this repository's group, and files it never has (snapshot or
 * group metadata, classifiers other than `-sources.jar`, other checksums), are NotFound, so Maven moves on to its
 * next repository; a malformed artifactId or version inside the group is InvalidArgument.
 */
export function parseMavenPath(path: string, groupId: string): MavenTarget {
  const notServed = (why: string) =>
    new RegistryError(
      Code.NotFound,
      `${why}: this repository serves ${groupId}:{templateOwner}_{templateName}_{moduleOwner}_{moduleName}`,
    );
  if (path.length > maxPathLength) throw invalidArgument(`path is over ${maxPathLength} characters`);
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) {
    throw invalidArgument(`invalid path "${path}": empty, "." or ".." segment`);
  }
  const group = groupId.split(".");
  const rest = segments.slice(group.length);
  if (
    segments.length < group.length ||
    group.some((g, i) => segments[i] !== g) ||
    (rest.length !== 2 && rest.length !== 3)
  ) {
    throw notServed(`no file at /maven/${path}`);
  }
  const [artifactId = "", second = "", third] = rest;
  const parts = parseMavenArtifactId(artifactId);
  if (third === undefined) {
    const [file, checksum] = splitChecksum(second);
    if (file !== "maven-metadata.xml")
      throw notServed(`artifact ${groupId}:${artifactId} has no file ${second}`);
    return { endpoint: "metadata", artifactId, parts, checksum };
  }
  const version = parseMavenVersion(second);
  if (!version) {
    throw invalidArgument(
      `invalid version "${second}" of ${groupId}:${artifactId}: versions look like 1.{template version}.{commit sequence}, e.g. 1.1.3`,
    );
  }
  const [file, checksum] = splitChecksum(third);
  const base = `${artifactId}-${second}`;
  const found = { artifactId, parts, version, checksum };
  if (file === `${base}.pom`) return { endpoint: "pom", ...found };
  if (file === `${base}.jar`) return { endpoint: "jar", ...found };
  if (file === `${base}-sources.jar`) return { endpoint: "sources", ...found };
  throw notServed(
    `${groupId}:${artifactId}:${second} has no file ${third} (only ${base}.pom, ${base}.jar and ${base}-sources.jar, with .sha1 and .md5)`,
  );
}
