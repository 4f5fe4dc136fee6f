// The engine's job for one resolved artifact, built only on a cache miss: who pays, the dependencies' artifacts a
// packager builds on, and (only when the run really starts) the commit's image and files, the files to generate
// for the scope, each plugin's parameter (the template's, then Go's and the packager's options).
import type { Readable } from "node:stream";
import { Code, RegistryError } from "../core/errors.js";
import { scanImage } from "../core/image-files.js";
import { readAll } from "../core/read-all.js";
import type { ArtifactRecord, Commit, CommitDep, Flavour } from "../core/types.js";
import type { PreparedJob } from "../generate/generator.js";
import type { GeneratedFile, PackageContext, Packager } from "../generate/package/packager.js";
import { goOptions, isGoPlugin, joinParameter } from "../generate/plugin-options.js";
import { filesForScope } from "../generate/request.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { readContent } from "../storage/blob/content.js";
import { isCorruptBlobError } from "../storage/blob/verify.js";
import type { ModuleStore, TemplateStore } from "../storage/meta/metadata-store.js";
import { type ArtifactJob, artifactId } from "./artifact-generator.js";
import type { GenerationTemplates, ResolvedArtifact } from "./artifact-resolver.js";
import type { Payers } from "./payers.js";
import { findPypiBase } from "./pypi-base.js";

export interface JobInputs {
  meta: Pick<ModuleStore, "listCommitFiles">;
  blobs: Pick<BlobStore, "get" | "stat">;
  goHost: string;
}

export interface JobBuilderOptions extends JobInputs {
  templates: Pick<GenerationTemplates, "resolvePlugins" | "getTemplate">;
  /** A pypi base's versions (pypi-base.ts). */
  templateVersions: Pick<TemplateStore, "listTemplateVersions">;
  payers: Payers;
  npmScope: string;
  packagerOf(flavour: Flavour): Packager;
  /** A stored artifact's bytes (healed when damaged). */
  readArtifact(record: ArtifactRecord): Promise<Buffer | Readable>;
  /** A dependency commit's own artifact of the same template version, scope and flavour, generated if needed. */
  dependency(
    resolved: ResolvedArtifact,
    dep: CommitDep,
    options: { background?: boolean; signal?: AbortSignal | undefined },
  ): Promise<ArtifactRecord>;
}

export interface JobBuilder {
  job(
    resolved: ResolvedArtifact,
    options: { background?: boolean; signal?: AbortSignal | undefined },
  ): Promise<ArtifactJob>;
  /** What a packager is told about the artifact, from metadata alone (no image read, no plugin run). */
  describe(resolved: ResolvedArtifact): Promise<PackageContext>;
}

/** What the artifact's events name: the module's owner hears of its SDKs. */
function artifactEvent(r: ResolvedArtifact): NonNullable<ArtifactJob["event"]> {
  const { template, templateVersion, commit } = r;
  return {
    owner: commit.owner,
    target: `${commit.owner}/${commit.module}`,
    data: {
      template: `${template.owner}/${template.name}`,
      templateVersion: templateVersion.number,
      commit: commit.id,
      seq: commit.seq,
      scope: r.scope,
      flavour: r.flavour,
    },
  };
}

export function createJobBuilder(opts: JobBuilderOptions): JobBuilder {
  async function describe(resolved: ResolvedArtifact): Promise<PackageContext> {
    const { principal, template, templateVersion } = resolved;
    const plugins = (await opts.templates.resolvePlugins(principal, template, templateVersion)).map(
      (p) => p.version,
    );
    const pypiBase =
      resolved.flavour === "pypi"
        ? await findPypiBase(
            { templates: opts.templates, meta: opts.templateVersions },
            principal,
            template,
            templateVersion,
            plugins,
          )
        : undefined;
    return {
      template,
      templateVersion,
      commit: resolved.commit,
      deps: resolved.deps,
      plugins,
      scope: resolved.scope,
      goHost: opts.goHost,
      npmScope: opts.npmScope,
      ...(pypiBase ? { pypiBase } : {}),
    };
  }

  /** A dependency's artifact a packager builds against (Maven's jars). */
  async function bytesOf(record: ArtifactRecord): Promise<Uint8Array> {
    const opened = await opts.readArtifact(record);
    return Buffer.isBuffer(opened) ? opened : new Uint8Array(await readAll(opened));
  }

  return {
    describe,
    async job(resolved, options) {
      const packager = opts.packagerOf(resolved.flavour);
      // Before this artifact takes a slot: each dependency's own artifact, when the packager builds against them.
      const records = packager.needsDependencyArtifacts
        ? await Promise.all(
            resolved.deps.map(
              async (d) => [d.commitId, await opts.dependency(resolved, d, options)] as const,
            ),
          )
        : undefined;
      // The caller, the template's owner and the pinned plugins' owners share the cost of a cold generation.
      const payers = await opts.payers.of(resolved.principal, [
        resolved.template.owner,
        ...resolved.templateVersion.plugins.map((p) => p.owner),
      ]);
      return {
        key: artifactId(resolved.key),
        artifact: resolved.key,
        owner: resolved.template.owner,
        payers,
        event: artifactEvent(resolved),
        ...(options.background ? { background: true } : {}),
        prepare: async () => {
          const ctx = await describe(resolved);
          // Read only once the run really starts: a joined flight or another node's lease reads none.
          const deps =
            records &&
            new Map(await Promise.all(records.map(async ([id, r]) => [id, await bytesOf(r)] as const)));
          return prepareJob(opts, deps ? { ...ctx, dependencyArtifacts: deps } : ctx, packager);
        },
      };
    },
  };
}

const protos = (files: readonly { path: string }[]) =>
  files.map((f) => f.path).filter((p) => p.endsWith(".proto"));

/** Builds everything the engine needs for one artifact; only called on a cache miss. */
export async function prepareJob(
  inputs: JobInputs,
  ctx: PackageContext,
  packager: Packager,
): Promise<PreparedJob> {
  const { meta } = inputs;
  const commitFiles = await meta.listCommitFiles(ctx.commit.id);
  const depModules = await Promise.all(
    ctx.deps.map(async (d) => ({
      owner: d.owner,
      module: d.module,
      files: await meta.listCommitFiles(d.commitId),
    })),
  );
  const image = await readCommitBlob(inputs.blobs, ctx.commit, "image", ctx.commit.imageBlob);
  const allFiles = scanImage(image).map((f) => f.name);
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
  const go = goOptions(inputs.goHost, ctx.template, [
    { owner: ctx.commit.owner, module: ctx.commit.module, files: commitFiles },
    ...depModules,
  ]);
  // A wheel with a base leaves the base's plugins out: the base's own wheel holds their output.
  const inBase = (p: { owner: string; name: string }) =>
    ctx.pypiBase?.plugins.some((b) => b.owner === p.owner && b.name === p.name) ?? false;
  const plugins = ctx.plugins.flatMap((plugin, i) =>
    inBase(plugin)
      ? []
      : [
          {
            label: `${plugin.owner}/${plugin.name}:${plugin.version}`,
            source: plugin.source,
            parameter: joinParameter(ctx.template.plugins[i]?.parameter ?? "", [
              ...(isGoPlugin(plugin) ? go : []),
              ...(packager.extraOptions?.(plugin, full) ?? []),
            ]),
          },
        ],
  );
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
      if (files.length === 0 && generating > 0) throw generatedNothing(ctx, generating);
      return packager.package(files, full);
    },
  };
}

function generatedNothing(ctx: PackageContext, generating: number): RegistryError {
  const { template, templateVersion, commit } = ctx;
  return new RegistryError(
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

/** A commit's stored blob, or a clear error naming the commit when it is missing or corrupt: never other bytes. */
async function readCommitBlob(
  blobs: Pick<BlobStore, "get" | "stat">,
  commit: Commit,
  what: string,
  key: string,
): Promise<Uint8Array> {
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
