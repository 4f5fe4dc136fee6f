// Resolving what a request names into what it is, once and for one caller: the template (and every plugin it
// runs) readable, the template version, the commit (by label, id or sequence), the dependencies readable, the scope
// the flavour generates with, and the artifact's typed key.
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, isCommitId } from "../core/names.js";
import type { SyntheticVersion } from "../core/synthetic-version.js";
import type {
  ArtifactKey,
  Commit,
  CommitDep,
  Flavour,
  Module,
  Scope,
  Template,
  TemplateVersion,
} from "../core/types.js";
import type { PackageContext, Packager } from "../generate/package/packager.js";
import type { ModuleStore, TemplateStore } from "../storage/meta/metadata-store.js";
import type { Principal } from "./auth.js";
import type { ResolutionCache } from "./resolution-cache.js";
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

/** What resolution reads of modules: the caller-aware reads of the module service. */
export interface GenerationModules {
  getModule(principal: Principal, name: FullName): Promise<Module>;
  resolveRef(principal: Principal, name: FullName, ref: string): Promise<Commit>;
  readableDeps(principal: Principal, commit: Commit): Promise<CommitDep[]>;
}

/** What resolution and generation read of templates: the caller-aware reads of the template service. */
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

export interface ArtifactResolver {
  /** The template and every plugin it runs, readable by the caller, or NotFound as if missing. */
  readableTemplate(principal: Principal, name: FullName): Promise<Template>;
  locate(principal: Principal, request: VersionRequest): Promise<LocatedVersion>;
  resolve(principal: Principal, request: ArtifactRequest): Promise<ResolvedArtifact>;
  /** The packager of a flavour (Internal when the server has none). */
  packagerOf(flavour: Flavour): Packager;
}

export interface ArtifactResolverOptions {
  meta: Pick<ModuleStore, "getCommitBySeq"> & Pick<TemplateStore, "listTemplateVersions">;
  modules: GenerationModules;
  templates: GenerationTemplates;
  packagers: readonly Packager[];
  /** Only what moves is kept there: which commit a label names, which version is a template's newest. */
  resolutions: ResolutionCache;
}

export function createArtifactResolver(opts: ArtifactResolverOptions): ArtifactResolver {
  const { meta, modules, templates, resolutions } = opts;
  const packagers = new Map(opts.packagers.map((p) => [p.flavour, p]));

  async function readableTemplate(principal: Principal, name: FullName): Promise<Template> {
    const template = await templates.getTemplate(principal, name);
    await templates.checkPluginsReadable(principal, template);
    return template;
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
    return resolutions.get(principal, `latest\0${template.id}`, () => newestVersion(meta, template));
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

  return {
    readableTemplate,
    locate,
    packagerOf,
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
  };
}

async function newestVersion(
  meta: Pick<TemplateStore, "listTemplateVersions">,
  template: Template,
): Promise<TemplateVersion> {
  const versions = await meta.listTemplateVersions(template.id);
  const latest = versions[versions.length - 1];
  if (!latest) {
    const name = `${template.owner}/${template.name}`;
    const pins = template.plugins.map((p) => `{"owner":"${p.owner}","name":"${p.name}","version":"vX.Y.Z"}`);
    throw new RegistryError(
      Code.NotFound,
      `template ${name} has no versions yet: pin its plugins' versions with protodepot template version create ${name} --config '{"plugin_versions":[${pins.join(",")}]}'`,
      { template: name },
    );
  }
  return latest;
}
