// Remote generation: resolve a request once into a typed artifact (template version, commit, dependencies, scope,
// flavour, key), then generate it (run plugins once → package → cache forever) and open its stored bytes.
import type { Readable } from "node:stream";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, isCommitId } from "../core/names.js";
import { readAll } from "../core/read-all.js";
import type { SyntheticVersion } from "../core/synthetic-version.js";
import type {
  ArtifactKey,
  ArtifactRecord,
  Commit,
  CommitDep,
  Flavour,
  Module,
  Scope,
  Template,
  TemplateVersion,
} from "../core/types.js";
import type { Generator } from "../generate/generator.js";
import type { PackageContext, Packager } from "../generate/package/packager.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { ContentCache } from "../storage/blob/content-cache.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import type { ArtifactStore, ModuleStore, TemplateStore } from "../storage/meta/metadata-store.js";
import { type ArtifactJob, artifactId } from "./artifact-generator.js";
import { createArtifactReader } from "./artifact-reader.js";
import type { Principal } from "./auth.js";
import { prepareJob } from "./generation-job.js";
import type { Payers } from "./payers.js";
import { createResolutionCache } from "./resolution-cache.js";
import { parseTemplateVersionName } from "./templates.js";

/** A template version by number, the newest (`latest`), or as a URL spells it (`v3`, `3`, `latest`). */
export type TemplateVersionRef = number | "latest" | { name: string };

/**
 * A commit of the module: by a label, a commit id or a unique prefix of one (`ref`; empty: the default label), or
 * by its sequence number (what a synthetic version names).
 */
export type CommitRef = { ref: string } | { seq: number };

/** One version of a (template, module) pair, before any packaging choice. */
export interface VersionRequest {
  template: FullName;
  module: FullName;
  templateVersion: TemplateVersionRef;
  commit: CommitRef;
}

export interface ArtifactRequest extends VersionRequest {
  scope: Scope;
  flavour: Flavour;
}

/** The request of a synthetic version: a numbered template version over a commit sequence. */
export const atVersion = (version: SyntheticVersion): Pick<VersionRequest, "templateVersion" | "commit"> => ({
  templateVersion: version.templateVersion,
  commit: { seq: version.commitSeq },
});

/** A version the caller may read: the template (and every plugin it runs), the template version and the commit. */
export interface LocatedVersion {
  template: Template;
  templateVersion: TemplateVersion;
  commit: Commit;
  version: SyntheticVersion;
}

/** Everything one artifact is, for one caller: checked once, then generated or served without resolving again. */
export interface ResolvedArtifact extends LocatedVersion {
  /** Who it was resolved for: a generation is charged to them and reads the template's plugins as them. */
  principal: Principal;
  /** Every dependency commit, deepest first; each readable by the caller. */
  deps: readonly CommitDep[];
  /** The requested scope, or the one the flavour always generates with. */
  scope: Scope;
  flavour: Flavour;
  key: ArtifactKey;
}

export interface GenerateOptions {
  /** Nobody waits for it (warming, pre-generation): it yields to requests for plugin slots. */
  background?: boolean;
  /** The client went away: stop waiting, and if nobody else waits for this artifact, do not start it. */
  signal?: AbortSignal | undefined;
}

export interface GenerationService {
  /** Checks and resolves everything once; whoever may not generate an artifact is never served it, cached or not. */
  resolve(principal: Principal, request: ArtifactRequest): Promise<ResolvedArtifact>;
  /** The stored record, or the artifact generated now (its dependencies' artifacts first, when it builds on them). */
  generate(resolved: ResolvedArtifact, options?: GenerateOptions): Promise<ArtifactRecord>;
  /** The record's bytes, healed (regenerated) first when its blob is damaged. */
  open(record: ArtifactRecord, signal?: AbortSignal): Promise<Buffer | Readable>;
  /** A version without its dependencies or packaging: what `.info` and `@latest` answer, what a pin names. */
  locate(principal: Principal, request: VersionRequest): Promise<LocatedVersion>;
  /**
   * What a packager would be told about a resolved artifact, from metadata alone (no image read, no plugin run):
   * the Go proxy renders `.mod` from it, byte-identical to the go.mod inside the zip.
   */
  describe(resolved: ResolvedArtifact): Promise<PackageContext>;
  /** Every version of a (template, module) pair: each template version × each commit, oldest first. */
  listVersions(principal: Principal, template: FullName, module: FullName): Promise<LocatedVersion[]>;
  /** The artifacts of one flavour already generated for a template over the given commits: nothing is generated. */
  listGenerated(
    principal: Principal,
    template: FullName,
    flavour: Flavour,
    commitIds: readonly string[],
  ): Promise<ArtifactRecord[]>;
}

/** What generation reads of modules and templates: the caller-aware reads of their services. */
export interface GenerationModules {
  getModule(principal: Principal, name: FullName): Promise<Module>;
  resolveRef(principal: Principal, name: FullName, ref: string): Promise<Commit>;
  readableDeps(principal: Principal, commit: Commit): Promise<CommitDep[]>;
}

export interface GenerationTemplates {
  getTemplate(principal: Principal, name: FullName): Promise<Template>;
  getVersion(template: Template, number: number): Promise<TemplateVersion>;
  checkPluginsReadable(principal: Principal, template: Template): Promise<void>;
  resolvePlugins(
    principal: Principal,
    template: Template,
    version: TemplateVersion,
  ): Promise<{ version: PackageContext["plugins"][number] }[]>;
}

export interface GenerationServiceOptions {
  meta: Pick<ModuleStore, "getCommitBySeq" | "listCommits" | "listCommitFiles"> &
    Pick<TemplateStore, "listTemplateVersions"> &
    Pick<ArtifactStore, "getArtifact" | "listArtifacts" | "deleteArtifacts">;
  blobs: Pick<BlobStore, "get" | "stat" | "delete">;
  modules: GenerationModules;
  templates: GenerationTemplates;
  /** The engine, already composed with its wrappers (singleflight, lease, failure memory, fair slots). */
  generator: Generator<ArtifactRecord, ArtifactJob>;
  packagers: readonly Packager[];
  goHost: string;
  npmScope: string;
  /** Small artifacts held in memory, so a hot download is one write. */
  smallBlobs?: Pick<ContentCache, "getBuffer">;
  /**
   * The epoch of mutable metadata and how long a label's commit or a template's newest version may be reused (the
   * metadata cache's TTL). Without it nothing is remembered.
   */
  invalidation?: Pick<Invalidation, "epoch">;
  resolutionTtlMs?: number;
  /** Who a generation's plugin slots are charged to (services/payers.ts). */
  payers: Payers;
}

export function createGenerationService(opts: GenerationServiceOptions): GenerationService {
  const { meta, modules, templates, payers } = opts;
  const packagers = new Map(opts.packagers.map((p) => [p.flavour, p]));
  const reader = createArtifactReader({ meta, blobs: opts.blobs, smallBlobs: opts.smallBlobs });
  const { invalidation } = opts;
  // Only what moves is remembered: which commit a label names, which version is a template's newest.
  const resolutions = createResolutionCache({
    epoch: () => invalidation?.epoch() ?? 0,
    ttlMs: invalidation ? (opts.resolutionTtlMs ?? 0) : 0,
  });

  /** The template and every plugin it runs, readable by the caller, or NotFound as if missing. */
  async function readableTemplate(principal: Principal, name: FullName): Promise<Template> {
    const template = await templates.getTemplate(principal, name);
    await templates.checkPluginsReadable(principal, template);
    return template;
  }

  async function newestVersion(template: Template): Promise<TemplateVersion> {
    const versions = await meta.listTemplateVersions(template.id);
    const latest = versions[versions.length - 1];
    if (!latest) {
      const name = `${template.owner}/${template.name}`;
      throw new RegistryError(Code.NotFound, `template ${name} has no versions yet`, { template: name });
    }
    return latest;
  }

  function templateVersionOf(
    principal: Principal,
    template: Template,
    ref: TemplateVersionRef,
  ): Promise<TemplateVersion> {
    const named = typeof ref === "object" ? ref.name : undefined;
    // A name is read only now, once the template is known readable: a hidden template answers as missing first.
    const wanted = named === undefined ? ref : named === "latest" ? named : parseTemplateVersionName(named);
    if (typeof wanted === "number") return templates.getVersion(template, wanted);
    return resolutions.get(principal, `latest\0${template.id}`, () => newestVersion(template));
  }

  async function commitOf(principal: Principal, name: FullName, ref: CommitRef): Promise<Commit> {
    if ("seq" in ref) {
      const mod = await modules.getModule(principal, name);
      const commit = await meta.getCommitBySeq(mod.id, ref.seq);
      if (commit) return commit;
      throw new RegistryError(
        Code.NotFound,
        `module ${name.owner}/${name.name} has no commit with sequence ${ref.seq}`,
        { owner: name.owner, module: name.name },
      );
    }
    // A commit id names one commit forever; a label, a prefix or the default label may name another after a write.
    if (isCommitId(ref.ref)) return modules.resolveRef(principal, name, ref.ref);
    const key = `ref\0${name.owner}/${name.name}\0${ref.ref}`;
    return resolutions.get(principal, key, () => modules.resolveRef(principal, name, ref.ref));
  }

  async function locate(principal: Principal, request: VersionRequest): Promise<LocatedVersion> {
    const template = await readableTemplate(principal, request.template);
    const templateVersion = await templateVersionOf(principal, template, request.templateVersion);
    const commit = await commitOf(principal, request.module, request.commit);
    return {
      template,
      templateVersion,
      commit,
      version: { templateVersion: templateVersion.number, commitSeq: commit.seq },
    };
  }

  function packagerOf(flavour: Flavour): Packager {
    const packager = packagers.get(flavour);
    if (!packager) throw new RegistryError(Code.Internal, `no packager for flavour ${flavour}`);
    return packager;
  }

  async function packageContext(resolved: ResolvedArtifact): Promise<PackageContext> {
    const { principal, template, templateVersion } = resolved;
    const plugins = await templates.resolvePlugins(principal, template, templateVersion);
    return {
      template,
      templateVersion,
      commit: resolved.commit,
      deps: resolved.deps,
      plugins: plugins.map((p) => p.version),
      scope: resolved.scope,
      goHost: opts.goHost,
      npmScope: opts.npmScope,
    };
  }

  /** Before an artifact takes a slot: each dependency's own artifact, when its packager builds against them. */
  async function dependencyArtifacts(
    resolved: ResolvedArtifact,
    options: GenerateOptions,
  ): Promise<(() => Promise<ReadonlyMap<string, Uint8Array>>) | undefined> {
    if (!packagerOf(resolved.flavour).needsDependencyArtifacts) return undefined;
    const records = await Promise.all(
      resolved.deps.map(async (d) => {
        const dep = await service.resolve(resolved.principal, {
          template: { owner: resolved.template.owner, name: resolved.template.name },
          templateVersion: resolved.templateVersion.number,
          module: { owner: d.owner, name: d.module },
          commit: { ref: d.commitId },
          scope: resolved.scope,
          flavour: resolved.flavour,
        });
        return [d.commitId, await service.generate(dep, options)] as const;
      }),
    );
    // Read only once the artifact really runs (prepare): a joined flight or a lease another node holds reads none.
    return async () =>
      new Map(await Promise.all(records.map(async ([id, r]) => [id, await bytesOf(r)] as const)));
  }

  /** A dependency's artifact a packager builds against (Maven's jars), healed like any artifact when damaged. */
  async function bytesOf(record: ArtifactRecord): Promise<Uint8Array> {
    const opened = await reader.open(record);
    return Buffer.isBuffer(opened) ? opened : new Uint8Array(await readAll(opened));
  }

  async function generateNow(resolved: ResolvedArtifact, options: GenerateOptions): Promise<ArtifactRecord> {
    const packager = packagerOf(resolved.flavour);
    const readDependencies = await dependencyArtifacts(resolved, options);
    // The caller, the template's owner and the pinned plugins' owners share the cost of a cold generation.
    const jobPayers = await payers.of(resolved.principal, [
      resolved.template.owner,
      ...resolved.templateVersion.plugins.map((p) => p.owner),
    ]);
    const job: ArtifactJob = {
      key: artifactId(resolved.key),
      artifact: resolved.key,
      owner: resolved.template.owner,
      payers: jobPayers,
      ...(options.background ? { background: true } : {}),
      prepare: async () => {
        const ctx = await packageContext(resolved);
        const deps = await readDependencies?.();
        return prepareJob(
          { meta, blobs: opts.blobs, goHost: opts.goHost },
          deps ? { ...ctx, dependencyArtifacts: deps } : ctx,
          packager,
        );
      },
    };
    return opts.generator.generate(job, options.signal);
  }

  const service: GenerationService = {
    async resolve(principal, request) {
      const packager = packagerOf(request.flavour);
      const located = await locate(principal, request);
      const deps = await modules.readableDeps(principal, located.commit);
      const scope = packager.fixedScope ?? request.scope;
      const key: ArtifactKey = {
        templateId: located.template.id,
        templateVersion: located.templateVersion.number,
        commitId: located.commit.id,
        scope,
        flavour: request.flavour,
      };
      return { ...located, principal, deps, scope, flavour: request.flavour, key };
    },

    async generate(resolved, options = {}) {
      // The hot path: one indexed lookup, no plugin, no image read.
      const record = (await meta.getArtifact(resolved.key)) ?? (await generateNow(resolved, options));
      // Every record handed out knows how to make itself again, should its blob turn out corrupt or missing.
      reader.remember(record, () => generateNow(resolved, {}));
      return record;
    },

    open: (record, signal) => reader.open(record, signal),

    locate,

    describe: packageContext,

    async listVersions(principal, templateName, moduleName) {
      const template = await readableTemplate(principal, templateName);
      const mod = await modules.getModule(principal, moduleName);
      const versions = await meta.listTemplateVersions(template.id);
      const commits: Commit[] = [];
      for (let beforeSeq: number | undefined; ; ) {
        const page = await meta.listCommits(mod.id, { limit: 500, ...(beforeSeq ? { beforeSeq } : {}) });
        commits.push(...page);
        const last = page[page.length - 1];
        if (page.length < 500 || !last) break;
        beforeSeq = last.seq;
      }
      commits.reverse();
      return versions.flatMap((templateVersion) =>
        commits.map((commit) => ({
          template,
          templateVersion,
          commit,
          version: { templateVersion: templateVersion.number, commitSeq: commit.seq },
        })),
      );
    },

    async listGenerated(principal, templateName, flavour, commitIds) {
      const template = await readableTemplate(principal, templateName);
      // One indexed query per commit: bounded by the module's size, not by everything the template ever generated.
      const lists = await Promise.all(
        commitIds.map((commitId) => meta.listArtifacts({ templateId: template.id, commitId, flavour })),
      );
      return lists.flat();
    },
  };
  return service;
}
