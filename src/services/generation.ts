// Remote generation: resolve (template version, commit, scope, flavour) → run plugins once → package → cache forever.
import type { Readable } from "node:stream";
import { Code, RegistryError } from "../core/errors.js";
import { scanImage } from "../core/image-files.js";
import type { FullName } from "../core/names.js";
import { readAll } from "../core/read-all.js";
import type { SyntheticVersion } from "../core/synthetic-version.js";
import type {
  ArtifactKey,
  ArtifactRecord,
  Commit,
  Flavour,
  Scope,
  Template,
  TemplateVersion,
} from "../core/types.js";
import type { GenerationJob, Generator } from "../generate/generator.js";
import type { GeneratedFile, PackageContext, Packager } from "../generate/package/packager.js";
import { goOptions, isGoPlugin, joinParameter } from "../generate/plugin-options.js";
import { filesForScope } from "../generate/request.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { readContent } from "../storage/blob/content.js";
import type { ContentCache } from "../storage/blob/content-cache.js";
import { isCorruptBlobError } from "../storage/blob/verify.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import type { Principal } from "./auth.js";
import type { ModuleService } from "./modules.js";
import { createPayers, type Payers } from "./payers.js";
import { createResolutionCache } from "./resolution-cache.js";
import { parseTemplateVersionName, type TemplateService } from "./templates.js";

export interface GenerateRequest {
  template: FullName;
  /** `v3`, `3` or `latest`. */
  templateVersion: string;
  module: FullName;
  /** Label, commit id or empty for the module's default label. */
  ref: string;
  scope: Scope;
  flavour: Flavour;
  /** Nobody waits for it (warming, pre-generation): it yields to requests for plugin slots. */
  background?: boolean;
  /** The client went away: stop waiting, and if nobody else waits for this artifact, do not start it. */
  signal?: AbortSignal;
}

export interface GenerateResult {
  record: ArtifactRecord;
  commit: Commit;
  template: Template;
  templateVersion: TemplateVersion;
  version: SyntheticVersion;
}

export interface GenerationServiceOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  modules: ModuleService;
  templates: TemplateService;
  /** The engine, already composed with its wrappers (singleflight, cache, concurrency limit). */
  generator: Generator<ArtifactRecord>;
  packagers: readonly Packager[];
  goHost: string;
  npmScope: string;
  /** Small artifacts held in memory, so a hot download is one write. */
  smallBlobs?: Pick<ContentCache, "getBuffer">;
  /**
   * The epoch of mutable metadata and how long a resolution may be reused (the metadata cache's TTL): a repeated
   * download skips resolving names, labels and access again. Without it nothing is remembered.
   */
  invalidation?: Pick<Invalidation, "epoch">;
  resolutionTtlMs?: number;
  /** Who a generation's plugin slots are charged to; by default from `meta`'s owners and members. */
  payers?: Payers;
}

export type GenerationService = ReturnType<typeof createGenerationService>;

/** The engine keys flights and cache entries by string; ids never contain "/". */
export const artifactKeyString = (k: ArtifactKey) =>
  `${k.templateId}/${k.templateVersion}/${k.commitId}/${k.scope}/${k.flavour}`;

export function parseArtifactKey(text: string): ArtifactKey {
  const [templateId = "", templateVersion = "", commitId = "", scope = "", flavour = ""] = text.split("/");
  return {
    templateId,
    templateVersion: Number(templateVersion),
    commitId,
    scope: scope as Scope,
    flavour: flavour as Flavour,
  };
}

export function createGenerationService(opts: GenerationServiceOptions) {
  const { meta, blobs, modules, templates } = opts;
  const packagers = new Map(opts.packagers.map((p) => [p.flavour, p]));
  const { invalidation } = opts;
  const payers = opts.payers ?? createPayers(meta);
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

  async function resolveTemplateVersion(template: Template, name: string): Promise<TemplateVersion> {
    if (name === "latest") {
      const versions = await meta.listTemplateVersions(template.id);
      const latest = versions[versions.length - 1];
      if (!latest) {
        throw new RegistryError(
          Code.NotFound,
          `template ${template.owner}/${template.name} has no versions yet`,
          {
            template: `${template.owner}/${template.name}`,
          },
        );
      }
      return latest;
    }
    return templates.getVersion(template, parseTemplateVersionName(name));
  }

  /** Resolves a synthetic version back to its template version and commit (NotFound when either is missing). */
  function resolveVersion(
    principal: Principal,
    templateName: FullName,
    moduleName: FullName,
    version: SyntheticVersion,
  ): Promise<{ templateVersion: TemplateVersion; commit: Commit }> {
    const key = `v\0${templateName.owner}/${templateName.name}\0${moduleName.owner}/${moduleName.name}\0${version.templateVersion}.${version.commitSeq}`;
    return resolutions.get(principal, key, () => loadVersion(principal, templateName, moduleName, version));
  }

  async function loadVersion(
    principal: Principal,
    templateName: FullName,
    moduleName: FullName,
    version: SyntheticVersion,
  ): Promise<{ templateVersion: TemplateVersion; commit: Commit }> {
    const template = await readableTemplate(principal, templateName);
    const templateVersion = await templates.getVersion(template, version.templateVersion);
    const mod = await modules.getModule(principal, moduleName);
    const commit = await meta.getCommitBySeq(mod.id, version.commitSeq);
    if (!commit) {
      throw new RegistryError(
        Code.NotFound,
        `module ${moduleName.owner}/${moduleName.name} has no commit with sequence ${version.commitSeq}`,
        {
          owner: moduleName.owner,
          module: moduleName.name,
        },
      );
    }
    return { templateVersion, commit };
  }

  /** Builds everything the engine needs for one artifact; only called on a cache miss. */
  async function prepare(ctx: PackageContext, packager: Packager) {
    const commitFiles = await meta.listCommitFiles(ctx.commit.id);
    const depModules = await Promise.all(
      ctx.deps.map(async (d) => ({
        owner: d.owner,
        module: d.module,
        files: await meta.listCommitFiles(d.commitId),
      })),
    );
    const image = await readCommitBlob(ctx.commit, "image", ctx.commit.imageBlob);
    const allFiles = scanImage(image).map((f) => f.name);
    const protos = (files: readonly { path: string }[]) =>
      files.map((f) => f.path).filter((p) => p.endsWith(".proto"));
    const fileToGenerate = filesForScope(
      { moduleFiles: protos(commitFiles), depFiles: depModules.flatMap((d) => protos(d.files)), allFiles },
      ctx.scope,
    );
    const full: PackageContext = {
      ...ctx,
      protoFiles: {
        module: protos(commitFiles),
        deps: new Map(ctx.deps.map((d, i) => [d.commitId, protos(depModules[i]?.files ?? [])])),
      },
    };
    const go = goOptions(opts.goHost, ctx.template, [
      { owner: ctx.commit.owner, module: ctx.commit.module, files: commitFiles },
      ...depModules,
    ]);
    const plugins = ctx.plugins.map((plugin, i) => ({
      label: `${plugin.owner}/${plugin.name}:${plugin.version}`,
      source: plugin.source,
      parameter: joinParameter(ctx.template.plugins[i]?.parameter ?? "", [
        ...(isGoPlugin(plugin) ? go : []),
        ...(packager.extraOptions?.(plugin, full) ?? []),
      ]),
    }));
    // compiler_version stays unset, as with local `buf generate`: output is then identical to local generation,
    // and upgrading the server's buf never changes the bytes of a regenerated artifact.
    const generating = fileToGenerate.length;
    return {
      image,
      fileToGenerate,
      plugins,
      compilerVersion: "",
      package: (files: readonly GeneratedFile[]) => {
        // Nothing is what a broken input or plugin looks like: an empty artifact would be kept and served forever.
        if (files.length === 0 && generating > 0) {
          const { template, templateVersion, commit } = ctx;
          throw new RegistryError(
            Code.Unprocessable,
            `template ${template.owner}/${template.name} v${templateVersion.number} generated no files for ${commit.owner}/${commit.module} commit ${commit.id} (${generating} files to generate): nothing is published`,
            {
              template: `${template.owner}/${template.name}`,
              owner: commit.owner,
              module: commit.module,
              ref: commit.id,
            },
          );
        }
        return packager.package(files, full);
      },
    };
  }

  async function generateNow(principal: Principal, req: GenerateRequest): Promise<GenerateResult> {
    const packager = packagers.get(req.flavour);
    if (!packager) throw new RegistryError(Code.Internal, `no packager for flavour ${req.flavour}`);
    // Whoever may not generate an artifact is never served it, cached or not: every check comes first.
    const template = await readableTemplate(principal, req.template);
    const templateVersion = await resolveTemplateVersion(template, req.templateVersion);
    const commit = await modules.resolveRef(principal, req.module, req.ref);
    const deps = await modules.readableDeps(principal, commit);
    const scope = packager.fixedScope ?? req.scope;
    const key: ArtifactKey = {
      templateId: template.id,
      templateVersion: templateVersion.number,
      commitId: commit.id,
      scope,
      flavour: req.flavour,
    };
    const version = { templateVersion: templateVersion.number, commitSeq: commit.seq };
    const done = (record: ArtifactRecord): GenerateResult => ({
      record,
      commit,
      template,
      templateVersion,
      version,
    });

    // Before this artifact takes a slot: each dependency's own artifact, which this one is built against.
    const dependencyRecords = (signal: AbortSignal | undefined) =>
      packager.needsDependencyArtifacts
        ? Promise.all(
            deps.map(async (d) => {
              const dep = await service.generate(principal, {
                template: req.template,
                templateVersion: String(templateVersion.number),
                module: { owner: d.owner, name: d.module },
                ref: d.commitId,
                scope,
                flavour: req.flavour,
                ...(req.background ? { background: true } : {}),
                ...(signal ? { signal } : {}),
              });
              return [d.commitId, dep.record] as const;
            }),
          )
        : Promise.resolve([]);

    // The caller, the template's owner and the pinned plugins' owners share the cost of a cold generation.
    const jobPayers = await payers.of(principal, [
      template.owner,
      ...templateVersion.plugins.map((p) => p.owner),
    ]);
    const jobWith = (records: readonly (readonly [string, ArtifactRecord])[]): GenerationJob => ({
      key: artifactKeyString(key),
      owner: template.owner,
      payers: jobPayers,
      ...(req.background ? { background: true } : {}),
      prepare: async () => {
        const resolved = await templates.resolvePlugins(principal, template, templateVersion);
        const dependencyArtifacts = new Map(
          await Promise.all(records.map(async ([id, r]) => [id, await readDependencyArtifact(r)] as const)),
        );
        const ctx: PackageContext = {
          template,
          templateVersion,
          commit,
          deps,
          plugins: resolved.map((r) => r.version),
          scope,
          goHost: opts.goHost,
          npmScope: opts.npmScope,
          ...(packager.needsDependencyArtifacts ? { dependencyArtifacts } : {}),
        };
        return prepare(ctx, packager);
      },
    });
    const generateIt = async (signal?: AbortSignal) =>
      opts.generator.generate(jobWith(await dependencyRecords(signal)), signal);
    // Every record handed out knows how to make itself again, should its blob turn out corrupt or missing.
    const remember = (record: ArtifactRecord): GenerateResult => {
      regenerators.set(record, () => generateIt());
      return done(record);
    };

    // The hot path: one indexed lookup, no plugin, no image read.
    const cached = await meta.getArtifact(key);
    if (cached) return remember(cached);
    return remember(await generateIt(req.signal));
  }

  /** A commit's stored blob, or a clear error naming the commit when it is missing or corrupt: never other bytes. */
  async function readCommitBlob(commit: Commit, what: string, key: string): Promise<Uint8Array> {
    try {
      return await readContent(blobs, key);
    } catch (err) {
      const corrupt = isCorruptBlobError(err);
      if (!corrupt && (await blobs.stat(key).catch(() => undefined))) throw err;
      throw new RegistryError(
        Code.Internal,
        `the ${what} of ${commit.owner}/${commit.module} commit ${commit.id} is ${corrupt ? "corrupt" : "missing"} in the blob store (${key}): nothing is generated from it; restore the blob from a backup (protodepot fsck lists what is damaged)`,
        { owner: commit.owner, module: commit.module, ref: commit.id, reason: "COMMIT_BLOB_DAMAGED" },
        { cause: err },
      );
    }
  }

  /** A dependency's artifact a packager builds against (Maven's jars), healed like any artifact when damaged. */
  async function readDependencyArtifact(record: ArtifactRecord): Promise<Uint8Array> {
    const opened = await service.openArtifact(record);
    return Buffer.isBuffer(opened) ? opened : new Uint8Array(await readAll(opened));
  }

  // How to make each handed-out record again (weakly held: the record's own lifetime), and the heals under way.
  const regenerators = new WeakMap<ArtifactRecord, () => Promise<ArtifactRecord>>();
  const healing = new Map<string, Promise<ArtifactRecord>>();

  /**
   * Removes a damaged artifact (its blob first, so the regeneration writes fresh bytes; then its record) and makes
   * it again from its commit: packaging is deterministic, so the bytes come back the same. Concurrent heals of one
   * artifact share one. A record nobody can regenerate here (listed, not generated) is removed and the caller told
   * to ask again.
   */
  function heal(record: ArtifactRecord): Promise<ArtifactRecord> {
    const id = artifactKeyString(record);
    let pending = healing.get(id);
    if (pending) return pending;
    pending = (async () => {
      await blobs.delete(record.blob);
      const { templateId, templateVersion, commitId, scope, flavour } = record;
      await meta.deleteArtifacts({ templateId, templateVersion, commitId, scope, flavour });
      const regenerate = regenerators.get(record);
      if (!regenerate) {
        throw new RegistryError(
          Code.Unavailable,
          `the stored artifact ${id} was damaged and has been removed: ask again to generate it anew`,
        );
      }
      return regenerate();
    })();
    healing.set(id, pending);
    const forget = () => healing.delete(id);
    pending.then(forget, forget);
    return pending;
  }

  /** The bytes of a record: kept in memory (checked once, when loaded) or a checked stream; undefined if missing. */
  async function openStored(
    record: ArtifactRecord,
    signal?: AbortSignal,
  ): Promise<Buffer | Readable | undefined> {
    const o = signal ? { signal } : {};
    const held = await opts.smallBlobs?.getBuffer(record.blob, o);
    if (held) return held;
    const stream = await blobs.get(record.blob, o);
    // Found only at the end of a stream, after bytes went out: this answer breaks off, the next one is healed.
    stream?.on("error", (err) => {
      if (isCorruptBlobError(err)) heal(record).catch(() => {});
    });
    return stream;
  }

  const service = {
    generate(principal: Principal, req: GenerateRequest): Promise<GenerateResult> {
      const { template, module } = req;
      const key = `g\0${template.owner}/${template.name}\0${req.templateVersion}\0${module.owner}/${module.name}\0${req.ref}\0${req.scope}\0${req.flavour}`;
      return resolutions.get(principal, key, () => generateNow(principal, req));
    },

    /**
     * Every synthetic version of a (template, module) pair: each template version × each commit, oldest first.
     * Computed from metadata alone: nothing is generated.
     */
    async listVersions(
      principal: Principal,
      templateName: FullName,
      moduleName: FullName,
    ): Promise<{ templateVersion: TemplateVersion; commit: Commit; version: SyntheticVersion }[]> {
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
      return versions.flatMap((tv) =>
        commits.map((commit) => ({
          templateVersion: tv,
          commit,
          version: { templateVersion: tv.number, commitSeq: commit.seq },
        })),
      );
    },

    /** The template's newest version over the head of the module's default label: what `latest` means. */
    /** The latest template version over `ref` (a label or commit id; the default label when empty). */
    async latest(
      principal: Principal,
      templateName: FullName,
      moduleName: FullName,
      ref = "",
    ): Promise<{ templateVersion: TemplateVersion; commit: Commit; version: SyntheticVersion }> {
      const template = await readableTemplate(principal, templateName);
      const templateVersion = await resolveTemplateVersion(template, "latest");
      const commit = await modules.resolveRef(principal, moduleName, ref);
      return {
        templateVersion,
        commit,
        version: { templateVersion: templateVersion.number, commitSeq: commit.seq },
      };
    },

    resolveVersion,

    /** The artifacts of one flavour already generated for a template over the given commits: nothing is generated. */
    async listGenerated(
      principal: Principal,
      templateName: FullName,
      flavour: Flavour,
      commitIds: readonly string[],
    ): Promise<ArtifactRecord[]> {
      const template = await readableTemplate(principal, templateName);
      // One indexed query per commit: bounded by the module's size, not by everything the template ever generated.
      const lists = await Promise.all(
        commitIds.map((commitId) => meta.listArtifacts({ templateId: template.id, commitId, flavour })),
      );
      return lists.flat();
    },

    /**
     * What a packager would be told about one synthetic version, from metadata alone (no image read, no plugin run):
     * the Go proxy renders `.mod` from it, byte-identical to the go.mod inside the zip.
     */
    async describeVersion(
      principal: Principal,
      templateName: FullName,
      moduleName: FullName,
      version: SyntheticVersion,
      flavour: Flavour,
    ): Promise<PackageContext> {
      const template = await readableTemplate(principal, templateName);
      const { templateVersion, commit } = await resolveVersion(principal, templateName, moduleName, version);
      const resolved = await templates.resolvePlugins(principal, template, templateVersion);
      return {
        template,
        templateVersion,
        commit,
        deps: await modules.readableDeps(principal, commit),
        plugins: resolved.map((r) => r.version),
        scope: packagers.get(flavour)?.fixedScope ?? "module",
        goHost: opts.goHost,
        npmScope: opts.npmScope,
      };
    },

    /**
     * The artifact's bytes: in memory when small (one write to the socket, no stream), else a stream of the blob.
     * Aborting `signal` (the client went away) stops the read.
     */
    async openArtifact(record: ArtifactRecord, signal?: AbortSignal): Promise<Buffer | Readable> {
      let found: Buffer | Readable | undefined;
      try {
        found = await openStored(record, signal);
      } catch (err) {
        if (!isCorruptBlobError(err)) throw err;
      }
      if (found) return found;
      // Damaged (or gone) and found before the first byte: this very request gets the regenerated bytes.
      const healed = await heal(record);
      const again = await openStored(healed, signal);
      if (!again)
        throw new RegistryError(Code.Internal, `artifact blob ${healed.blob} is missing after regeneration`);
      return again;
    },
  };
  return service;
}
