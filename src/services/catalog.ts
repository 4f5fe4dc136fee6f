// Which versions of a (template, module) package a registry lists, what it generates first, and what it warms:
// the policy npm uses today and PyPI and Maven reuse (each supplies only its dependency and tag rules).
import type { Readable } from "node:stream";
import { createCache } from "../core/cache.js";
import { Code, RegistryError } from "../core/errors.js";
import type { FullName } from "../core/names.js";
import type { SyntheticVersion } from "../core/synthetic-version.js";
import type { ArtifactRecord, Commit, Flavour, Label, Module } from "../core/types.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import type { Principal } from "./auth.js";
import type { PackageDeprecations } from "./deprecation.js";
import { atVersion, type GenerationService, type ResolvedArtifact } from "./generation.js";

/** One package: a template over a module. */
export interface PackageRef {
  template: FullName;
  module: FullName;
}

/** An exact version of another package a listed version pins (npm `dependencies`, PyPI `Requires-Dist`). */
export interface PinnedPackage extends PackageRef {
  version: SyntheticVersion;
}

export interface CatalogVersion {
  version: SyntheticVersion;
  commit: Commit;
  /** Generated: a listed version's integrity (hashes, size) is always known. */
  record: ArtifactRecord;
}

export interface CatalogListing {
  /** Oldest first: by template version, then commit sequence. */
  versions: CatalogVersion[];
  /** Tag name → the version it points at (the newest template version over the label's head). */
  tags: Map<string, SyntheticVersion>;
  /**
   * What consumers are told now, by template version: the versions `1.{t}.*` of a template version here are
   * deprecated (the module, the template or a plugin it pins is). Absent template versions: nothing.
   */
  deprecations: ReadonlyMap<number, string>;
}

/** One version's artifact: what it was resolved to, its stored record, and how to read its bytes. */
export interface CatalogArtifact {
  resolved: ResolvedArtifact;
  record: ArtifactRecord;
  open(): Promise<Buffer | Readable>;
}

/** What a catalog reads of modules: the module (its default label) and its labels, as the caller may see them. */
export interface CatalogModules {
  getModule(principal: Principal, name: FullName): Promise<Module>;
  /** Archived labels too: an archived label still resolves, so its tag stays (docs/architecture.md, label). */
  listLabels(principal: Principal, name: FullName, filter: "all"): Promise<Label[]>;
}

export interface CatalogOptions {
  generation: Pick<GenerationService, "resolve" | "generate" | "open" | "listVersions" | "listGenerated">;
  modules: CatalogModules;
  flavour: Flavour;
  /** `latest` (the default label's head) is always a tag; which labels are tags too, by the protocol's rules. */
  isTag(label: string): boolean;
  /** The exact versions of other packages a record pins; they are generated before the record is listed. */
  dependenciesOf(record: ArtifactRecord): PinnedPackage[];
  /** What a package's consumers are told of deprecations; without it nothing is deprecated. */
  deprecations?: Pick<PackageDeprecations, "ofPackage">;
  /** Moves on at every write that may move a label or a head: a listing of an older epoch is rebuilt. */
  invalidation?: Pick<Invalidation, "epoch">;
  /** How many not-yet-generated versions of the newest template version one listing warms in the background. */
  warmLimit?: number;
  /**
   * Longest reuse of a listing per package and caller (default 1000 ms; 0 disables). Writes that move labels or
   * heads end it at once (through `invalidation`); the TTL only bounds how late versions generated meanwhile show.
   */
  cacheTtlMs?: number;
  /** Called with errors of background work, which has no response to report them on. */
  onBackgroundError?: (err: unknown) => void;
  /** How many artifacts whose dependencies were checked are remembered (default 50,000). */
  depsCheckedMax?: number;
}

/** What a registry's catalog passes through from its own options: everything but the protocol's rules. */
export type CatalogSettings = Omit<CatalogOptions, "flavour" | "isTag" | "dependenciesOf">;

export interface Catalog {
  /**
   * The versions with an artifact, after generating the tag targets (so `latest` and every tag install) and the
   * dependencies of what is listed. Older versions not yet generated are warmed in the background and listed by a
   * later request.
   */
  list(principal: Principal, pkg: PackageRef): Promise<CatalogListing>;
  /** The artifact of one version, generated if needed (a lockfile may name a version no listing generated yet). */
  artifact(
    principal: Principal,
    pkg: PackageRef,
    version: SyntheticVersion,
    signal?: AbortSignal,
  ): Promise<CatalogArtifact>;
  /** Stops warming: nothing new starts; a run already started finishes for the cache. */
  close(): void;
}

const name = (pkg: PackageRef) =>
  `${pkg.template.owner}/${pkg.template.name}/${pkg.module.owner}/${pkg.module.name}`;

/** One version's artifact of a package: by the commit id a listing found, or the sequence a version names. */
type GenerateVersion = (
  principal: Principal,
  pkg: PackageRef,
  at: ReturnType<typeof atVersion>,
  options?: { background?: boolean; signal?: AbortSignal | undefined },
) => Promise<CatalogArtifact>;

const byCommit = (templateVersion: number, commitId: string) => ({
  templateVersion,
  commit: { ref: commitId },
});

export function createCatalog(opts: CatalogOptions): Catalog {
  const { generation, flavour } = opts;
  const ttl = opts.cacheTtlMs ?? 1000;
  const report = opts.onBackgroundError ?? (() => {});
  const epoch = () => opts.invalidation?.epoch() ?? 0;
  // A listing being built is shared; a built one is reused until the TTL or the next write.
  const listings = createCache<CatalogListing>({ bound: { maxEntries: 10_000 }, ttlMs: ttl, epoch });

  const generate: GenerateVersion = async (principal, pkg, at, options = {}) => {
    const resolved = await generation.resolve(principal, { ...pkg, ...at, scope: "module", flavour });
    const record = await generation.generate(resolved, options);
    return { resolved, record, open: () => generation.open(record, options.signal) };
  };
  const warmer = createWarmer(generate, opts.warmLimit ?? 50, report);
  const ensureDependencies = createDependencyCheck(
    generate,
    opts.dependenciesOf,
    opts.depsCheckedMax ?? 50_000,
  );
  const build = (principal: Principal, pkg: PackageRef) =>
    buildListing({ opts, generate, ensureDependencies, warm: warmer.warm, report }, principal, pkg);

  return {
    list(principal, pkg) {
      return listings.load(`${principal.user?.id ?? ""}\0${name(pkg)}`, () => build(principal, pkg));
    },

    artifact: (principal, pkg, version, signal) => generate(principal, pkg, atVersion(version), { signal }),

    close: () => warmer.close(),
  };
}

/**
 * A listed version's dependencies must be listable too, or an install stops at the first package whose pinned
 * version nobody generated yet. By induction (each listing checks what it lists) every version a client can reach
 * has an artifact. What was checked is remembered, within a bound: forgetting one costs a recheck (one indexed
 * lookup per dependency), remembering every artifact ever listed would cost memory without end.
 */
function createDependencyCheck(
  generate: GenerateVersion,
  dependenciesOf: CatalogOptions["dependenciesOf"],
  max: number,
): (principal: Principal, record: ArtifactRecord) => Promise<void> {
  const checked = createCache<true>({ bound: { maxEntries: max } });
  return async (principal, record) => {
    const key = `${record.templateId}/${record.templateVersion}/${record.commitId}`;
    if (checked.has(key)) return;
    await Promise.all(dependenciesOf(record).map((dep) => generate(principal, dep, atVersion(dep.version))));
    checked.set(key, true);
  };
}

/** Generates older versions in the background, one package at a time, newest first, up to `limit` per listing. */
function createWarmer(generate: GenerateVersion, limit: number, report: (err: unknown) => void) {
  const warming = new Set<string>();
  let closed = false;
  return {
    warm(principal: Principal, pkg: PackageRef, templateVersion: number, commits: readonly Commit[]): void {
      const key = name(pkg);
      if (closed || commits.length === 0 || warming.has(key)) return;
      warming.add(key);
      const run = async () => {
        // Newest first: those are the versions people ask for.
        for (const commit of commits.slice(0, limit)) {
          if (closed) return;
          try {
            await generate(principal, pkg, byCommit(templateVersion, commit.id), { background: true });
          } catch (err) {
            report(err);
          }
        }
      };
      run().finally(() => warming.delete(key));
    },
    /** Nothing new starts; a run already started finishes for the cache. */
    close() {
      closed = true;
    },
  };
}

/** Tag name → the commit it points at: `latest` over the default label, and every label the protocol takes as a tag. */
async function tagTargets(
  modules: CatalogModules,
  principal: Principal,
  pkg: PackageRef,
  isTag: (label: string) => boolean,
): Promise<Map<string, string>> {
  const mod = await modules.getModule(principal, pkg.module);
  const targets = new Map<string, string>();
  for (const label of await modules.listLabels(principal, pkg.module, "all")) {
    if (label.name === mod.defaultLabel) targets.set("latest", label.commitId);
    if (label.name !== "latest" && isTag(label.name)) targets.set(label.name, label.commitId);
  }
  return targets;
}

interface ListingContext {
  opts: CatalogOptions;
  generate: GenerateVersion;
  ensureDependencies(principal: Principal, record: ArtifactRecord): Promise<void>;
  warm(principal: Principal, pkg: PackageRef, templateVersion: number, commits: readonly Commit[]): void;
  report(err: unknown): void;
}

const keyOf = (templateVersion: number, commitId: string) => `${templateVersion}/${commitId}`;

async function buildListing(
  ctx: ListingContext,
  principal: Principal,
  pkg: PackageRef,
): Promise<CatalogListing> {
  const { generation, flavour } = ctx.opts;
  const all = await generation.listVersions(principal, pkg.template, pkg.module);
  const newest = all[all.length - 1]?.templateVersion.number;
  if (newest === undefined) {
    // listVersions is template versions × commits: one of the two is empty.
    throw new RegistryError(
      Code.NotFound,
      `package ${name(pkg)} has no versions: template ${pkg.template.owner}/${pkg.template.name} has no versions, or module ${pkg.module.owner}/${pkg.module.name} has no commits`,
    );
  }
  const commits = new Map<string, Commit>();
  for (const v of all) commits.set(v.commit.id, v.commit);
  const targets = await tagTargets(ctx.opts.modules, principal, pkg, ctx.opts.isTag);

  // One query for every commit's artifacts; the tag targets missing from it are generated and added.
  const byKey = new Map<string, ArtifactRecord>();
  for (const r of await generation.listGenerated(principal, pkg.template, flavour, [...commits.keys()])) {
    byKey.set(keyOf(r.templateVersion, r.commitId), r);
  }
  const missing = [...new Set(targets.values())].filter((id) => !byKey.has(keyOf(newest, id)));
  const fresh = await Promise.all(
    missing.map((id) => {
      const commit = commits.get(id);
      if (!commit) throw new RegistryError(Code.Internal, `label points at commit ${id} outside the module`);
      return ctx.generate(principal, pkg, byCommit(newest, commit.id));
    }),
  );
  for (const f of fresh) byKey.set(keyOf(f.record.templateVersion, f.record.commitId), f.record);

  const tagged = new Set([...targets.values()].map((id) => keyOf(newest, id)));
  const versions = await installable(ctx, principal, [...byKey.values()], commits, tagged);
  const tags = new Map<string, SyntheticVersion>();
  for (const [tag, id] of targets) {
    const commit = commits.get(id);
    if (commit) tags.set(tag, { templateVersion: newest, commitSeq: commit.seq });
  }
  const cold = [...commits.values()].filter((c) => !byKey.has(keyOf(newest, c.id))).reverse();
  ctx.warm(principal, pkg, newest, cold);
  const deprecations = (await ctx.opts.deprecations?.ofPackage(pkg)) ?? new Map<number, string>();
  return { versions, tags, deprecations };
}

/**
 * The records whose dependencies are generated, oldest first. A version whose dependencies cannot be generated
 * would fail every install of it: it is left out, unless a tag points at it, where the error (a plugin failure,
 * say) is the most useful answer.
 */
async function installable(
  ctx: ListingContext,
  principal: Principal,
  records: readonly ArtifactRecord[],
  commits: ReadonlyMap<string, Commit>,
  tagged: ReadonlySet<string>,
): Promise<CatalogVersion[]> {
  const versions: CatalogVersion[] = [];
  await Promise.all(
    records.map(async (record) => {
      const commit = commits.get(record.commitId);
      if (!commit) return;
      try {
        await ctx.ensureDependencies(principal, record);
      } catch (err) {
        if (tagged.has(keyOf(record.templateVersion, record.commitId))) throw err;
        ctx.report(err);
        return;
      }
      versions.push({
        version: { templateVersion: record.templateVersion, commitSeq: commit.seq },
        commit,
        record,
      });
    }),
  );
  return versions.sort(
    (a, b) =>
      a.version.templateVersion - b.version.templateVersion || a.version.commitSeq - b.version.commitSeq,
  );
}
