// Remote generation: resolve a request once into a typed artifact (template version, commit, dependencies, scope,
// flavour, key), then generate it (run plugins once → package → cache forever) and open its stored bytes.
import type { Readable } from "node:stream";
import type { FullName } from "../core/names.js";
import type { ArtifactRecord, Commit, Flavour, Template } from "../core/types.js";
import type { Generator } from "../generate/generator.js";
import type { PackageContext, Packager } from "../generate/package/packager.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { ContentCache } from "../storage/blob/content-cache.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import type { ArtifactStore, ModuleStore, TemplateStore } from "../storage/meta/metadata-store.js";
import type { ArtifactJob } from "./artifact-generator.js";
import { createArtifactReader } from "./artifact-reader.js";
import {
  type ArtifactRequest,
  createArtifactResolver,
  type GenerationModules,
  type GenerationTemplates,
  type LocatedVersion,
  type ResolvedArtifact,
  type VersionRequest,
} from "./artifact-resolver.js";
import type { Principal } from "./auth.js";
import { createJobBuilder } from "./generation-job.js";
import type { Payers } from "./payers.js";
import type { GenerationBudget } from "./rate-limiter.js";
import { createResolutionCache } from "./resolution-cache.js";

export {
  type ArtifactRequest,
  atVersion,
  type CommitRef,
  type GenerationModules,
  type GenerationTemplates,
  type LocatedVersion,
  type ResolvedArtifact,
  type TemplateVersionRef,
  type VersionRequest,
} from "./artifact-resolver.js";

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
  /** Hears of each artifact served (the coarse last-served day, services/lifecycle/last-served.ts). */
  onServed?: ((record: ArtifactRecord) => void) | undefined;
  /** Cold generations a caller may start per window (rateLimits.generations); absent: unlimited. */
  budget?: GenerationBudget | undefined;
}

/** Resolves requests once; only what moves is remembered (which commit a label names, a template's newest version). */
function resolverOf(opts: GenerationServiceOptions) {
  const { meta, modules, templates, invalidation } = opts;
  return createArtifactResolver({
    meta,
    modules,
    templates,
    packagers: opts.packagers,
    resolutions: createResolutionCache({
      epoch: () => invalidation?.epoch() ?? 0,
      ttlMs: invalidation ? (opts.resolutionTtlMs ?? 0) : 0,
    }),
  });
}

export function createGenerationService(opts: GenerationServiceOptions): GenerationService {
  const { meta, modules, templates, payers } = opts;
  const reader = createArtifactReader({
    meta,
    blobs: opts.blobs,
    smallBlobs: opts.smallBlobs,
    onServed: opts.onServed,
  });
  const resolver = resolverOf(opts);
  const { readableTemplate, packagerOf } = resolver;

  const jobs = createJobBuilder({
    meta,
    templateVersions: meta,
    blobs: opts.blobs,
    templates,
    payers,
    goHost: opts.goHost,
    npmScope: opts.npmScope,
    packagerOf,
    readArtifact: (record) => reader.open(record),
    // A dependency's own artifact: resolved for the same caller, template version, scope and flavour.
    async dependency(resolved, dep, options) {
      const artifact = await resolver.resolve(resolved.principal, {
        template: { owner: resolved.template.owner, name: resolved.template.name },
        templateVersion: resolved.templateVersion.number,
        module: { owner: dep.owner, name: dep.module },
        commit: { ref: dep.commitId },
        scope: resolved.scope,
        flavour: resolved.flavour,
      });
      return service.generate(artifact, options);
    },
  });
  const generateNow = async (resolved: ResolvedArtifact, options: GenerateOptions) =>
    opts.generator.generate(await jobs.job(resolved, options), options.signal);

  const service: GenerationService = {
    resolve: resolver.resolve,

    async generate(resolved, options = {}) {
      // The hot path: one indexed lookup, no plugin, no image read.
      let record = await meta.getArtifact(resolved.key);
      if (!record) {
        // A miss costs the caller one cold generation (background work is the server's own).
        if (!options.background) await opts.budget?.charge(resolved.principal);
        record = await generateNow(resolved, options);
      }
      // Every record handed out knows how to make itself again, should its blob turn out corrupt or missing.
      reader.remember(record, () => generateNow(resolved, {}));
      return record;
    },

    open: (record, signal) => reader.open(record, signal),

    locate: resolver.locate,

    describe: jobs.describe,

    async listVersions(principal, templateName, moduleName) {
      const template = await readableTemplate(principal, templateName);
      const mod = await modules.getModule(principal, moduleName);
      return everyVersion(meta, template, mod.id);
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

/** Each template version × each commit of the module (read in pages), oldest first: from metadata alone. */
async function everyVersion(
  meta: Pick<ModuleStore, "listCommits"> & Pick<TemplateStore, "listTemplateVersions">,
  template: Template,
  moduleId: string,
): Promise<LocatedVersion[]> {
  const versions = await meta.listTemplateVersions(template.id);
  const commits: Commit[] = [];
  for (let beforeSeq: number | undefined; ; ) {
    const page = await meta.listCommits(moduleId, { limit: 500, ...(beforeSeq ? { beforeSeq } : {}) });
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
}
