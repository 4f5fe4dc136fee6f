// What the RubyGems source offers: every gem the caller may see with its versions (the compact index), one gem's
// versions, and the artifact behind each .gem and quick spec. The version policy is the shared catalog's
// (services/catalog.ts); which packages exist, the package directory's.
import type { Readable } from "node:stream";
import { createCache } from "../../core/cache.js";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord, Commit } from "../../core/types.js";
import type { RequirementClause } from "../../ecosystems/rubygems/gemspec.js";
import { type GemParts, gemName, parseGemName, parseGemVersion } from "../../ecosystems/rubygems/names.js";
import type { GemPin } from "../../generate/package/rubygems.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { Principal } from "../../services/auth.js";
import {
  type Catalog,
  type CatalogSettings,
  createCatalog,
  type PackageRef,
  type PinnedPackage,
} from "../../services/catalog.js";
import type { PackageDirectory } from "../../services/package-directory.js";

export interface GemVersion {
  version: string;
  /** Runtime dependencies, as the .gem's spec lists them. */
  dependencies: [name: string, requirement: RequirementClause[]][];
  /** Hex sha256 of the .gem (Bundler checks the download against it). */
  sha256: string;
  commit: Commit;
}

export interface GemListing {
  name: string;
  /** Oldest first. */
  versions: GemVersion[];
}

/** The one call per endpoint each handler of this source makes. */
export interface RubygemsCatalog {
  /** Every gem the caller may see that has a listed version, sorted by name (`/versions`, `/names`). */
  gems(principal: Principal): Promise<GemListing[]>;
  /** One gem's versions (`/info/{name}`); undefined for a name that is not of our shape (someone else's gem). */
  gem(principal: Principal, name: string): Promise<GemListing | undefined>;
  /** One version's .gem (its quick spec in the record), generated if needed, and how to read its bytes. */
  artifact(
    principal: Principal,
    name: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<{ record: ArtifactRecord; open(): Promise<Buffer | Readable> }>;
  /** Stops background warming (the server is closing). */
  close(): void;
}

export interface RubygemsCatalogOptions extends CatalogSettings {
  /** Lists the packages `/versions` holds (gem names split back by themselves: no lookup by name). */
  directory: Pick<PackageDirectory, "list">;
  /** How many gems' listings `/versions` builds at once (default 4): each may generate a head. */
  listConcurrency?: number;
}

const refOf = (p: GemParts): PackageRef => ({
  template: { owner: p.templateOwner, name: p.templateName },
  module: { owner: p.moduleOwner, name: p.moduleName },
});

function parsePins(record: ArtifactRecord): PinnedPackage[] {
  const text = extrasOf(record, "rubygems")?.pins;
  if (!text) return [];
  return (JSON.parse(text) as GemPin[]).flatMap((p) => {
    const version = parseGemVersion(p.version);
    if (!version) return [];
    return [
      { template: parseFullName("template", p.template), module: parseFullName("module", p.module), version },
    ];
  });
}

function gemVersionOf(v: {
  version: SyntheticVersion;
  commit: Commit;
  record: ArtifactRecord;
}): GemVersion[] {
  // A record without its hashes (never written so) cannot be listed: Bundler would refuse it.
  const extras = extrasOf(v.record, "rubygems");
  if (!extras) return [];
  return [
    {
      version: semverVersion(v.version),
      dependencies: JSON.parse(extras.dependencies) as GemVersion["dependencies"],
      sha256: extras.sha256,
      commit: v.commit,
    },
  ];
}

/** Runs `work` over `items` with at most `limit` at a time, results in the order of `items`. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** A NotFound from below, reworded to name the gem the client asked for; any other error unchanged. */
function reworded(err: unknown, say: (message: string) => string): unknown {
  return isRegistryError(err, Code.NotFound)
    ? new RegistryError(Code.NotFound, say(err.message), err.fields)
    : err;
}

/** One gem's listing: its name and the versions the catalog lists. */
async function gemListing(catalog: Catalog, principal: Principal, parts: GemParts): Promise<GemListing> {
  const found = await catalog.list(principal, refOf(parts));
  return { name: gemName(parts), versions: found.versions.flatMap(gemVersionOf) };
}

/** Every gem the caller may see with at least one version, by name; a gem that fails is left out and reported. */
async function allGems(
  d: {
    catalog: Catalog;
    directory: RubygemsCatalogOptions["directory"];
    listConcurrency: number;
    report: (err: unknown) => void;
  },
  principal: Principal,
): Promise<GemListing[]> {
  const refs = await d.directory.list(principal, (plugins) =>
    plugins.some((p) => (p.runtimeLibraries.ruby?.length ?? 0) > 0),
  );
  const parts = refs.map((r) => ({
    templateOwner: r.template.owner,
    templateName: r.template.name,
    moduleOwner: r.module.owner,
    moduleName: r.module.name,
  }));
  const listings = await mapLimited(parts, d.listConcurrency, async (p) => {
    try {
      return await gemListing(d.catalog, principal, p);
    } catch (err) {
      // A module without commits has no versions; any other failure leaves one gem out, not the whole index.
      if (!isRegistryError(err, Code.NotFound)) d.report(err);
      return undefined;
    }
  });
  return listings
    .filter((l): l is GemListing => l !== undefined && l.versions.length > 0)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function createRubygemsCatalog(opts: RubygemsCatalogOptions): RubygemsCatalog {
  const { directory, listConcurrency = 4, ...settings } = opts;
  const report = opts.onBackgroundError ?? (() => {});
  const catalog = createCatalog({
    ...settings,
    flavour: "rubygems",
    // RubyGems has no tags: the default label's head (what `gem install NAME` picks, as the highest version of the
    // newest template version) is generated before listing; other versions are listed once generated.
    isTag: () => false,
    dependenciesOf: parsePins,
  });
  const ttl = opts.cacheTtlMs ?? 1000;
  const epoch = () => opts.invalidation?.epoch() ?? 0;
  const everything = createCache<GemListing[]>({ bound: { maxEntries: 1000 }, ttlMs: ttl, epoch });

  const listing = (principal: Principal, parts: GemParts) => gemListing(catalog, principal, parts);
  const buildAll = (principal: Principal) =>
    allGems({ catalog, directory, listConcurrency, report }, principal);

  return {
    gems(principal) {
      return everything.load(principal.user?.id ?? "", () => buildAll(principal));
    },

    async gem(principal, name) {
      const parsed = parseGemName(name);
      if (parsed.kind === "foreign") return undefined;
      try {
        return await listing(principal, parsed.parts);
      } catch (err) {
        throw reworded(
          err,
          (m) =>
            `gem ${name} does not exist: no template and module it names exist or are visible to you (${m})`,
        );
      }
    },

    async artifact(principal, name, version, signal) {
      const parsed = parseGemName(name);
      const v = parseGemVersion(version);
      if (parsed.kind === "foreign" || !v) {
        throw new RegistryError(
          Code.NotFound,
          `gem ${name} has no version ${version}: this source serves {templateOwner}_{templateName}_{moduleOwner}_{moduleName} at versions 1.{template version}.{commit sequence}`,
        );
      }
      try {
        const { record, open } = await catalog.artifact(principal, refOf(parsed.parts), v, signal);
        return { record, open };
      } catch (err) {
        throw reworded(err, (m) => `gem ${name} has no version ${version}: ${m}`);
      }
    },

    close: () => catalog.close(),
  };
}
