// What an npm package offers: its versions with integrity, its dist-tags, and the artifact behind each tarball.
import semver from "semver";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import { semverVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord, Commit, Label } from "../../core/types.js";
import { type NpmPackageParts, parseNpmPackageName, parseNpmVersion } from "../../ecosystems/npm/names.js";
import { type ArtifactExtras, extrasOf } from "../../services/artifact-extras.js";
import type { Principal } from "../../services/auth.js";
import {
  type CatalogArtifact,
  type CatalogSettings,
  createCatalog as createPackageCatalog,
  type Catalog as PackageCatalog,
  type PinnedPackage,
} from "../../services/catalog.js";

export interface CatalogOptions extends CatalogSettings {
  scope: string;
}

export interface ListedVersion {
  version: string;
  commit: Commit;
  record: ArtifactRecord;
  /** What the packager kept beside the tarball: its integrity and shasum. */
  extras: ArtifactExtras["npm"];
  dependencies: Record<string, string>;
  /** Present while the version is deprecated (its module, template or a pinned plugin): what npm warns with. */
  deprecated?: string;
}

export interface PackageListing {
  name: string;
  parts: NpmPackageParts;
  /** Every listed version has an artifact, so integrity is known for each. Sorted by semver, oldest first. */
  versions: ListedVersion[];
  distTags: Record<string, string>;
}

export interface Catalog {
  list(principal: Principal, name: string): Promise<PackageListing>;
  /** One version's tarball, generated if needed, and how to read its bytes. */
  tarball(
    principal: Principal,
    name: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<CatalogArtifact>;
  /** Stops background warming (the server is closing). */
  close(): void;
}

/** npm refuses dist-tags that parse as a semver range (`v2`, `1.x`), and `latest` is ours to set. */
export function isUsableDistTag(label: string): boolean {
  return label !== "latest" && encodeURIComponent(label) === label && semver.validRange(label) === null;
}

/** The dist-tags of a package: `latest` over the default label, then every other label npm accepts as a tag. */
export function distTagTargets(labels: readonly Label[], defaultLabel: string): Map<string, string> {
  const tags = new Map<string, string>();
  const head = labels.find((l) => l.name === defaultLabel);
  if (head) tags.set("latest", head.commitId);
  for (const l of labels) if (isUsableDistTag(l.name)) tags.set(l.name, l.commitId);
  return tags;
}

/** Parses a package name of this registry: 404 for another scope, 400 for a malformed name in ours. */
export function packageParts(scope: string, name: string): NpmPackageParts {
  const parsed = parseNpmPackageName(scope, name);
  if (parsed.kind === "foreign") {
    throw new RegistryError(
      Code.NotFound,
      `package ${name} is not served here: this registry serves @${scope}/{templateOwner}_{templateName}_{moduleOwner}_{moduleName}`,
    );
  }
  return parsed.parts;
}

const names = (p: NpmPackageParts): { template: FullName; module: FullName } => ({
  template: { owner: p.templateOwner, name: p.templateName },
  module: { owner: p.moduleOwner, name: p.moduleName },
});

function parseDependencies(record: ArtifactRecord): Record<string, string> {
  const text = extrasOf(record, "npm")?.dependencies;
  if (text === undefined) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) return {};
  return Object.fromEntries(
    Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

/** npm's view of the shared package catalog: names, semver strings, dist-tags, `dependencies`. */
export function createCatalog(opts: CatalogOptions): Catalog {
  const { scope, ...settings } = opts;
  /** The packages of this registry that a tarball's package.json pins exactly; runtime libraries are not ours. */
  const pinned = (record: ArtifactRecord): PinnedPackage[] =>
    Object.entries(parseDependencies(record)).flatMap(([name, version]) => {
      const parsed = parseNpmPackageName(scope, name);
      const v = parseNpmVersion(version);
      return parsed.kind === "foreign" || !v ? [] : [{ ...names(parsed.parts), version: v }];
    });
  const catalog: PackageCatalog = createPackageCatalog({
    ...settings,
    flavour: "npm",
    isTag: isUsableDistTag,
    dependenciesOf: pinned,
  });

  return {
    async list(principal, name) {
      const parts = packageParts(scope, name);
      const listing = await catalog.list(principal, names(parts));
      // Every listed version has its integrity: a record without it (never written so) is left out.
      const versions: ListedVersion[] = listing.versions.flatMap((v) => {
        const extras = extrasOf(v.record, "npm");
        if (!extras) return [];
        const { commit, record } = v;
        const deprecated = listing.deprecations.get(v.version.templateVersion);
        return [
          {
            version: semverVersion(v.version),
            commit,
            record,
            extras,
            dependencies: parseDependencies(record),
            ...(deprecated !== undefined ? { deprecated } : {}),
          },
        ];
      });
      const distTags: Record<string, string> = {};
      for (const [tag, v] of listing.tags) distTags[tag] = semverVersion(v);
      return { name, parts, versions, distTags };
    },

    async tarball(principal, name, version, signal) {
      const parts = packageParts(scope, name);
      const v = parseNpmVersion(version);
      if (!v) {
        throw new RegistryError(
          Code.NotFound,
          `package ${name} has no version ${version}: versions look like 1.{template version}.{commit sequence}`,
        );
      }
      try {
        return await catalog.artifact(principal, names(parts), v, signal);
      } catch (err) {
        if (isRegistryError(err, Code.NotFound)) {
          throw new RegistryError(
            Code.NotFound,
            `package ${name} has no version ${version}: ${err.message}`,
            err.fields,
          );
        }
        throw err;
      }
    },

    close: () => catalog.close(),
  };
}
