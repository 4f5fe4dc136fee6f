// What an npm package offers: its versions with integrity, its dist-tags, and the artifact behind each tarball.
import semver from "semver";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import { semverVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord, Commit, Label } from "../../core/types.js";
import { type NpmPackageParts, parseNpmPackageName, parseNpmVersion } from "../../generate/package/npm.js";
import type { Principal } from "../../services/auth.js";
import type { GenerateResult, GenerationService } from "../../services/generation.js";
import type { ModuleService } from "../../services/modules.js";
import { createTtlCache } from "./ttl-cache.js";

export interface CatalogOptions {
  generation: GenerationService;
  modules: ModuleService;
  scope: string;
  /** Generations a listing starts at once (on top of the engine's own plugin concurrency). */
  concurrency?: number;
  /** How many not-yet-generated versions of the newest template version one listing warms in the background. */
  warmLimit?: number;
  /**
   * How long a listing or a version's artifact record is reused (default 1000 ms; 0 disables). Bounds how late a
   * push or a moved label shows in packuments, and how long a revoked reader keeps reading what it could.
   */
  cacheTtlMs?: number;
  /** Called with errors of background work, which has no response to report them on. */
  onBackgroundError?: (err: unknown) => void;
}

export interface ListedVersion {
  version: string;
  commit: Commit;
  record: ArtifactRecord;
  dependencies: Record<string, string>;
}

export interface PackageListing {
  name: string;
  parts: NpmPackageParts;
  /** Every listed version has an artifact, so integrity is known for each. Sorted by semver, oldest first. */
  versions: ListedVersion[];
  distTags: Record<string, string>;
}

export type Catalog = ReturnType<typeof createCatalog>;

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

function createLimiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function parseDependencies(record: ArtifactRecord): Record<string, string> {
  const text = record.extra.dependencies;
  if (text === undefined) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) return {};
  return Object.fromEntries(
    Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

const hasIntegrity = (r: ArtifactRecord) => r.extra.integrity !== undefined && r.extra.shasum !== undefined;

export function createCatalog(opts: CatalogOptions) {
  const { generation, modules, scope } = opts;
  const limit = createLimiter(opts.concurrency ?? 4);
  const warmLimit = opts.warmLimit ?? 50;
  // Artifacts whose dependency packages are known to be generated: checked once per process, not per listing.
  const depsChecked = new Set<string>();
  // One background warm per package at a time.
  const warming = new Set<string>();
  const report = opts.onBackgroundError ?? (() => {});
  const ttl = opts.cacheTtlMs ?? 1000;
  const listings = createTtlCache<PackageListing>(ttl);
  const artifacts = createTtlCache<GenerateResult>(ttl);
  const who = (principal: Principal) => principal.user?.id ?? "";

  function generate(
    principal: Principal,
    p: NpmPackageParts,
    templateVersion: number,
    commitId: string,
  ): Promise<GenerateResult> {
    const n = names(p);
    return limit(() =>
      generation.generate(principal, {
        template: n.template,
        templateVersion: String(templateVersion),
        module: n.module,
        ref: commitId,
        scope: "module",
        flavour: "npm",
      }),
    );
  }

  /**
   * A listed version's dependencies must be listable too, or `npm install` stops at the first package whose pinned
   * dependency version nobody generated yet. By induction (each listing checks what it lists) every version npm
   * can reach has an artifact and so an integrity.
   */
  async function ensureDependencies(
    principal: Principal,
    record: ArtifactRecord,
    deps: Record<string, string>,
  ): Promise<void> {
    const key = `${record.templateId}/${record.templateVersion}/${record.commitId}`;
    if (depsChecked.has(key)) return;
    await Promise.all(
      Object.entries(deps).map(async ([name, version]) => {
        const parsed = parseNpmPackageName(scope, name);
        const v = parseNpmVersion(version);
        if (parsed.kind === "foreign" || !v) return;
        const n = names(parsed.parts);
        const { commit } = await generation.resolveVersion(principal, n.template, n.module, v);
        await generate(principal, parsed.parts, v.templateVersion, commit.id);
      }),
    );
    depsChecked.add(key);
  }

  function warm(
    principal: Principal,
    p: NpmPackageParts,
    name: string,
    templateVersion: number,
    commits: readonly Commit[],
  ): void {
    if (commits.length === 0 || warming.has(name)) return;
    warming.add(name);
    // Newest first: those are the versions people ask for.
    const run = async () => {
      for (const commit of commits.slice(0, warmLimit)) {
        try {
          await generate(principal, p, templateVersion, commit.id);
        } catch (err) {
          report(err);
        }
      }
    };
    run().finally(() => warming.delete(name));
  }

  return {
    /**
     * The versions with an artifact (hence an integrity), after generating the dist-tag targets (so `latest` and
     * every label install) and the dependencies of what is listed. Older versions not yet generated are warmed in
     * the background and listed by a later request.
     */
    list(principal: Principal, name: string): Promise<PackageListing> {
      return listings.get(`${who(principal)}\0${name}`, () => list(principal, name));
    },

    /** The artifact of one version, generated if needed (a lockfile may name a version no listing generated yet). */
    tarball(principal: Principal, name: string, version: string): Promise<GenerateResult> {
      return artifacts.get(`${who(principal)}\0${name}\0${version}`, () => tarball(principal, name, version));
    },

    /** Drops a cached artifact record, e.g. when its blob turned out to be gone (a cache wipe while running). */
    forget(principal: Principal, name: string, version: string): void {
      artifacts.delete(`${who(principal)}\0${name}\0${version}`);
    },
  };

  async function list(principal: Principal, name: string): Promise<PackageListing> {
    const parts = packageParts(scope, name);
    const n = names(parts);
    const all = await generation.listVersions(principal, n.template, n.module);
    const mod = await modules.getModule(principal, n.module);
    const newest = all[all.length - 1]?.templateVersion.number;
    if (newest === undefined) {
      // listVersions is template versions × commits: one of the two is empty.
      throw new RegistryError(
        Code.NotFound,
        `package ${name} has no versions: template ${n.template.owner}/${n.template.name} has no versions, or module ${n.module.owner}/${n.module.name} has no commits`,
      );
    }
    const commits = new Map<string, Commit>();
    for (const v of all) commits.set(v.commit.id, v.commit);
    const commitIds = [...commits.keys()];

    const generatedKeys = (records: readonly ArtifactRecord[]) =>
      new Set(records.filter(hasIntegrity).map((r) => `${r.templateVersion}/${r.commitId}`));
    let records = await generation.listGenerated(principal, n.template, "npm", commitIds);
    const tagTargets = distTagTargets(await modules.listLabels(principal, n.module), mod.defaultLabel);
    const have = generatedKeys(records);
    const missing = [...new Set(tagTargets.values())].filter((id) => !have.has(`${newest}/${id}`));
    if (missing.length > 0) {
      await Promise.all(missing.map((id) => generate(principal, parts, newest, id)));
      records = await generation.listGenerated(principal, n.template, "npm", commitIds);
    }

    const versions: ListedVersion[] = [];
    for (const record of records) {
      const commit = commits.get(record.commitId);
      if (!commit || !hasIntegrity(record)) continue;
      const version = semverVersion({ templateVersion: record.templateVersion, commitSeq: commit.seq });
      versions.push({ version, commit, record, dependencies: parseDependencies(record) });
    }
    const tagged = new Set([...tagTargets.values()].map((id) => `${newest}/${id}`));
    // A version whose dependencies cannot be generated would fail every install of it: it is left out, unless a
    // dist-tag points at it, where the error (a plugin failure, say) is the most useful answer.
    const usable = await Promise.all(
      versions.map(async (v) => {
        try {
          await ensureDependencies(principal, v.record, v.dependencies);
          return true;
        } catch (err) {
          if (tagged.has(`${v.record.templateVersion}/${v.record.commitId}`)) throw err;
          report(err);
          return false;
        }
      }),
    );
    const kept = versions.filter((_, i) => usable[i]);
    kept.sort((a, b) => semver.compare(a.version, b.version));

    const distTags: Record<string, string> = {};
    for (const [tag, commitId] of tagTargets) {
      const commit = commits.get(commitId);
      if (commit) distTags[tag] = semverVersion({ templateVersion: newest, commitSeq: commit.seq });
    }

    const listed = generatedKeys(records);
    const cold = [...commits.values()].filter((c) => !listed.has(`${newest}/${c.id}`)).reverse();
    warm(principal, parts, name, newest, cold);
    return { name, parts, versions: kept, distTags };
  }

  async function tarball(principal: Principal, name: string, version: string): Promise<GenerateResult> {
    const parts = packageParts(scope, name);
    const v = parseNpmVersion(version);
    if (!v) {
      throw new RegistryError(
        Code.NotFound,
        `package ${name} has no version ${version}: versions look like 1.{template version}.{commit sequence}`,
      );
    }
    const n = names(parts);
    try {
      const { commit } = await generation.resolveVersion(principal, n.template, n.module, v);
      return await generate(principal, parts, v.templateVersion, commit.id);
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
  }
}
