// Which versions of a (template, module) package a registry lists, what it generates first, and what it warms:
// the policy npm uses today and PyPI and Maven reuse (each supplies only its dependency and tag rules).
import type { Readable } from "node:stream";
import { LRUCache } from "lru-cache";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { FullName } from "../core/names.js";
import type { SyntheticVersion } from "../core/synthetic-version.js";
import type { ArtifactRecord, Commit, Flavour, Label, Module, PluginVersion } from "../core/types.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import type { Principal } from "./auth.js";
import { atVersion, type GenerationService, type ResolvedArtifact } from "./generation.js";
import type { ModuleService } from "./modules.js";
import type { TemplateService } from "./templates.js";

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
  listLabels(principal: Principal, name: FullName): Promise<Label[]>;
}

export interface CatalogOptions {
  generation: Pick<GenerationService, "resolve" | "generate" | "open" | "listVersions" | "listGenerated">;
  modules: CatalogModules;
  flavour: Flavour;
  /** `latest` (the default label's head) is always a tag; which labels are tags too, by the protocol's rules. */
  isTag(label: string): boolean;
  /** The exact versions of other packages a record pins; they are generated before the record is listed. */
  dependenciesOf(record: ArtifactRecord): PinnedPackage[];
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

export function createCatalog(opts: CatalogOptions): Catalog {
  const { generation, modules, flavour } = opts;
  const warmLimit = opts.warmLimit ?? 50;
  const ttl = opts.cacheTtlMs ?? 1000;
  const report = opts.onBackgroundError ?? (() => {});
  const epoch = () => opts.invalidation?.epoch() ?? 0;
  // Artifacts whose dependencies are known to be generated: checked once, not per listing. Bounded: forgetting one
  // costs a recheck (one indexed lookup per dependency), remembering every artifact ever listed costs memory.
  const depsChecked = new LRUCache<string, true>({ max: opts.depsCheckedMax ?? 50_000 });
  // One background warm per package at a time.
  const warming = new Set<string>();
  const listings = new LRUCache<string, { epoch: number; expires: number; value: Promise<CatalogListing> }>({
    max: 10_000,
  });
  let closed = false;

  /** One version's artifact, by the commit id a listing found or the sequence a version names. */
  async function generate(
    principal: Principal,
    pkg: PackageRef,
    at: ReturnType<typeof atVersion>,
    options: { background?: boolean; signal?: AbortSignal | undefined } = {},
  ): Promise<CatalogArtifact> {
    const resolved = await generation.resolve(principal, { ...pkg, ...at, scope: "module", flavour });
    const record = await generation.generate(resolved, options);
    return { resolved, record, open: () => generation.open(record, options.signal) };
  }
  const byCommit = (templateVersion: number, commitId: string) => ({
    templateVersion,
    commit: { ref: commitId },
  });

  /**
   * A listed version's dependencies must be listable too, or an install stops at the first package whose pinned
   * version nobody generated yet. By induction (each listing checks what it lists) every version a client can
   * reach has an artifact.
   */
  async function ensureDependencies(principal: Principal, record: ArtifactRecord): Promise<void> {
    const key = `${record.templateId}/${record.templateVersion}/${record.commitId}`;
    if (depsChecked.has(key)) return;
    await Promise.all(
      opts.dependenciesOf(record).map((dep) => generate(principal, dep, atVersion(dep.version))),
    );
    depsChecked.set(key, true);
  }

  function warm(
    principal: Principal,
    pkg: PackageRef,
    templateVersion: number,
    commits: readonly Commit[],
  ): void {
    const key = name(pkg);
    if (closed || commits.length === 0 || warming.has(key)) return;
    warming.add(key);
    const run = async () => {
      // Newest first: those are the versions people ask for.
      for (const commit of commits.slice(0, warmLimit)) {
        if (closed) return;
        try {
          await generate(principal, pkg, byCommit(templateVersion, commit.id), { background: true });
        } catch (err) {
          report(err);
        }
      }
    };
    run().finally(() => warming.delete(key));
  }

  async function build(principal: Principal, pkg: PackageRef): Promise<CatalogListing> {
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
    const mod = await modules.getModule(principal, pkg.module);
    const targets = new Map<string, string>();
    for (const label of await modules.listLabels(principal, pkg.module)) {
      if (label.name === mod.defaultLabel) targets.set("latest", label.commitId);
      if (label.name !== "latest" && opts.isTag(label.name)) targets.set(label.name, label.commitId);
    }

    // One query for every commit's artifacts; the tag targets missing from it are generated and added.
    const byKey = new Map<string, ArtifactRecord>();
    const keyOf = (templateVersion: number, commitId: string) => `${templateVersion}/${commitId}`;
    for (const r of await generation.listGenerated(principal, pkg.template, flavour, [...commits.keys()])) {
      byKey.set(keyOf(r.templateVersion, r.commitId), r);
    }
    const missing = [...new Set(targets.values())].filter((id) => !byKey.has(keyOf(newest, id)));
    const fresh = await Promise.all(
      missing.map((id) => {
        const commit = commits.get(id);
        if (!commit)
          throw new RegistryError(Code.Internal, `label points at commit ${id} outside the module`);
        return generate(principal, pkg, byCommit(newest, commit.id));
      }),
    );
    for (const f of fresh) byKey.set(keyOf(f.record.templateVersion, f.record.commitId), f.record);

    const tagged = new Set([...targets.values()].map((id) => keyOf(newest, id)));
    const versions: CatalogVersion[] = [];
    // A version whose dependencies cannot be generated would fail every install of it: it is left out, unless a
    // tag points at it, where the error (a plugin failure, say) is the most useful answer.
    await Promise.all(
      [...byKey.values()].map(async (record) => {
        const commit = commits.get(record.commitId);
        if (!commit) return;
        try {
          await ensureDependencies(principal, record);
        } catch (err) {
          if (tagged.has(keyOf(record.templateVersion, record.commitId))) throw err;
          report(err);
          return;
        }
        versions.push({
          version: { templateVersion: record.templateVersion, commitSeq: commit.seq },
          commit,
          record,
        });
      }),
    );
    versions.sort(
      (a, b) =>
        a.version.templateVersion - b.version.templateVersion || a.version.commitSeq - b.version.commitSeq,
    );
    const tags = new Map<string, SyntheticVersion>();
    for (const [tag, id] of targets) {
      const commit = commits.get(id);
      if (commit) tags.set(tag, { templateVersion: newest, commitSeq: commit.seq });
    }
    const cold = [...commits.values()].filter((c) => !byKey.has(keyOf(newest, c.id))).reverse();
    warm(principal, pkg, newest, cold);
    return { versions, tags };
  }

  return {
    list(principal, pkg) {
      const key = `${principal.user?.id ?? ""}\0${name(pkg)}`;
      const now = Date.now();
      const hit = listings.get(key);
      // A listing being built is shared; a settled one is reused until the TTL or the next write.
      if (hit && hit.epoch === epoch() && hit.expires > now) return hit.value;
      const entry = { epoch: epoch(), expires: Number.POSITIVE_INFINITY, value: build(principal, pkg) };
      listings.set(key, entry);
      const forget = () => {
        if (listings.get(key) === entry) listings.delete(key);
      };
      entry.value.then(() => {
        entry.expires = Date.now() + ttl;
        if (ttl <= 0) forget();
      }, forget);
      return entry.value;
    },

    artifact: (principal, pkg, version, signal) => generate(principal, pkg, atVersion(version), { signal }),

    close() {
      closed = true;
    },
  };
}

/** Finding packages by name and listing them: what a registry needs whose names do not split back by themselves. */
export interface PackageDirectory {
  /**
   * The readings of a name that exist and the caller may see (template readable, module readable), in the order
   * given, each with the moment it came to exist (the later of its template's and its module's creation).
   * Lookups are shared across candidates: each template owner's templates are listed once, each module read once,
   * so the work is bounded by the distinct prefixes of the name, not by the number of readings.
   */
  find(principal: Principal, candidates: readonly PackageRef[]): Promise<(PackageRef & { since: string })[]>;
  /**
   * Every package the caller may see whose template's newest version runs plugins `accepts` (a registry lists only
   * templates that suit it, e.g. those with a Python runtime library): readable templates × readable modules.
   */
  list(principal: Principal, accepts: (plugins: readonly PluginVersion[]) => boolean): Promise<PackageRef[]>;
}

export function createPackageDirectory(opts: {
  modules: ModuleService;
  templates: TemplateService;
}): PackageDirectory {
  const { modules, templates } = opts;
  const missingIsUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (isRegistryError(err, Code.NotFound)) return undefined;
      throw err;
    }
  };
  return {
    async find(principal, candidates) {
      const templatesCreated = new Map<string, Promise<Map<string, string>>>();
      const modulesCreated = new Map<string, Promise<string | undefined>>();
      const memo = <T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
        let p = map.get(key);
        if (!p) {
          p = load();
          map.set(key, p);
        }
        return p;
      };
      const found: (PackageRef & { since: string })[] = [];
      for (const c of candidates) {
        const owner = c.template.owner;
        const created = await memo(
          templatesCreated,
          owner,
          async () =>
            new Map((await templates.listTemplates(principal, owner)).map((t) => [t.name, t.createdAt])),
        );
        const templateSince = created.get(c.template.name);
        if (templateSince === undefined) continue;
        const mod = `${c.module.owner}/${c.module.name}`;
        const moduleSince = await memo(
          modulesCreated,
          mod,
          async () => (await missingIsUndefined(modules.getModule(principal, c.module)))?.createdAt,
        );
        if (moduleSince === undefined) continue;
        found.push({ ...c, since: templateSince > moduleSince ? templateSince : moduleSince });
      }
      return found;
    },

    async list(principal, accepts) {
      const suitable: FullName[] = [];
      for (const t of await templates.listTemplates(principal)) {
        const versions = await templates.listVersions(principal, `${t.owner}/${t.name}`);
        const newest = versions[versions.length - 1];
        if (!newest) continue;
        // A template running a plugin the caller may not read is unusable to them, as if it did not exist.
        const plugins = await missingIsUndefined(templates.resolvePlugins(principal, t, newest));
        if (plugins && accepts(plugins.map((p) => p.version)))
          suitable.push({ owner: t.owner, name: t.name });
      }
      if (suitable.length === 0) return [];
      const mods = await modules.listModules(principal);
      return suitable.flatMap((template) =>
        mods.map((m) => ({ template, module: { owner: m.owner, name: m.name } })),
      );
    },
  };
}
