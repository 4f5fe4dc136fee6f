// What a Maven artifact offers: its listed versions (maven-metadata.xml) and the record behind each pom and jar,
// over the listing and warming policy every package registry shares (services/catalog.ts).
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import type { SyntheticVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord, Commit } from "../../core/types.js";
import {
  type MavenArtifactParts,
  mavenArtifactId,
  mavenVersion,
  parseMavenArtifactId,
  parseMavenVersion,
} from "../../ecosystems/maven/names.js";
import type { MavenCoordinate } from "../../generate/package/maven.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { Principal } from "../../services/auth.js";
import {
  type CatalogArtifact,
  type CatalogSettings,
  createCatalog as createPackageCatalog,
  type Catalog as PackageCatalog,
  type PinnedPackage,
} from "../../services/catalog.js";

export interface CatalogOptions extends CatalogSettings {
  groupId: string;
}

export interface ListedVersion {
  version: string;
  commit: Commit;
  record: ArtifactRecord;
}

export interface ArtifactListing {
  parts: MavenArtifactParts;
  /** Every listed version has a jar; oldest first, in Maven's order. */
  versions: ListedVersion[];
  /** The newest template version over the default label's head: `<latest>` and `<release>`. */
  latest: string | undefined;
}

export interface Catalog {
  list(principal: Principal, parts: MavenArtifactParts): Promise<ArtifactListing>;
  /** One version's jar (its pom and checksums in the record), generated if needed, and how to read its bytes. */
  artifact(
    principal: Principal,
    parts: MavenArtifactParts,
    version: SyntheticVersion,
    signal?: AbortSignal,
  ): Promise<CatalogArtifact>;
  /** One version's `-sources.jar` (checksums in the record), generated if needed. */
  sources(
    principal: Principal,
    parts: MavenArtifactParts,
    version: SyntheticVersion,
    signal?: AbortSignal,
  ): Promise<CatalogArtifact>;
  /** Stops background warming (the server is closing). */
  close(): void;
}

const names = (p: MavenArtifactParts): { template: FullName; module: FullName } => ({
  template: { owner: p.templateOwner, name: p.templateName },
  module: { owner: p.moduleOwner, name: p.moduleName },
});

/** The pom's dependencies kept beside the jar (maven packager); runtime libraries are other groups'. */
export function recordDependencies(record: ArtifactRecord): MavenCoordinate[] {
  const text = extrasOf(record, "maven")?.dependencies;
  if (text === undefined) return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (d): d is MavenCoordinate =>
      typeof d === "object" &&
      d !== null &&
      typeof d.groupId === "string" &&
      typeof d.artifactId === "string" &&
      typeof d.version === "string",
  );
}

export function createCatalog(opts: CatalogOptions): Catalog {
  const { groupId, ...settings } = opts;
  const pinned = (record: ArtifactRecord): PinnedPackage[] =>
    recordDependencies(record).flatMap((d) => {
      if (d.groupId !== groupId) return [];
      const v = parseMavenVersion(d.version);
      return v ? [{ ...names(parseMavenArtifactId(d.artifactId)), version: v }] : [];
    });
  const catalog: PackageCatalog = createPackageCatalog({
    ...settings,
    flavour: "maven",
    // Maven has no tags: only `latest` (the default label's head) is generated before a listing.
    isTag: () => false,
    dependenciesOf: pinned,
  });
  // Sources are never listed (maven-metadata.xml lists jars): only asked for by an exact version, beside its jar.
  const sourcesCatalog: PackageCatalog = createPackageCatalog({
    ...settings,
    flavour: "maven-sources",
    isTag: () => false,
    dependenciesOf: () => [],
  });
  const notFound = (parts: MavenArtifactParts, version: SyntheticVersion, err: unknown): unknown =>
    isRegistryError(err, Code.NotFound)
      ? new RegistryError(
          Code.NotFound,
          `artifact ${groupId}:${mavenArtifactId(parts)} has no version ${mavenVersion(version)}: ${err.message}`,
          err.fields,
        )
      : err;

  return {
    async list(principal, parts) {
      const listing = await catalog.list(principal, names(parts));
      const latest = listing.tags.get("latest");
      return {
        parts,
        versions: listing.versions.map((v) => ({
          version: mavenVersion(v.version),
          commit: v.commit,
          record: v.record,
        })),
        latest: latest ? mavenVersion(latest) : undefined,
      };
    },

    async artifact(principal, parts, version, signal) {
      try {
        return await catalog.artifact(principal, names(parts), version, signal);
      } catch (err) {
        if (isRegistryError(err, Code.NotFound)) {
          throw new RegistryError(
            Code.NotFound,
            `artifact ${groupId}:${mavenArtifactId(parts)} has no version ${mavenVersion(version)}: ${err.message}`,
            err.fields,
          );
        }
        throw err;
      }
    },

    async sources(principal, parts, version, signal) {
      try {
        return await sourcesCatalog.artifact(principal, names(parts), version, signal);
      } catch (err) {
        throw notFound(parts, version, err);
      }
    },

    close: () => {
      catalog.close();
      sourcesCatalog.close();
    },
  };
}
