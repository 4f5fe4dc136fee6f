// How generated files become one registry's artifact. One packager per flavour (archive, go, npm, maven).

import type { ArtifactExtras } from "../../core/artifact-extras.js";
import type {
  Commit,
  CommitDep,
  Flavour,
  PluginVersion,
  Scope,
  Template,
  TemplateVersion,
} from "../../core/types.js";
import type { Packaged } from "../generator.js";
import type { GeneratedFile } from "../run-plugins.js";

export type { GeneratedFile, Packaged };

/** Everything a packager may need to know about what it packages. */
export interface PackageContext {
  template: Template;
  templateVersion: TemplateVersion;
  commit: Commit;
  /** Every dependency commit, deepest first. */
  deps: readonly CommitDep[];
  /** The plugin versions of the template version, in template order. */
  plugins: readonly PluginVersion[];
  scope: Scope;
  goHost: string;
  npmScope: string;
  /**
   * The `.proto` paths of the commit and of each dependency commit (by commit id), so a packager can point imports
   * of dependency files at the dependency's own package. Set by the generation service before plugins run.
   */
  protoFiles?: { module: readonly string[]; deps: ReadonlyMap<string, readonly string[]> };
  /**
   * The artifact bytes of this flavour for each dependency commit (by commit id), when the packager builds on them
   * (`needsDependencyArtifacts`: Maven compiles against the dependencies' jars). Set by the generation service.
   */
  dependencyArtifacts?: ReadonlyMap<string, Uint8Array>;
  /** PyPI: the template whose wheel of the same commit holds the output of some of these plugins (pypi-base.ts). */
  pypiBase?: PypiBase;
}

/** Another template's wheel this one requires instead of holding the output of the base's plugins again. */
export interface PypiBase {
  template: { owner: string; name: string };
  templateVersion: number;
  /** The plugins whose output the base's wheel holds: they do not run for this wheel. */
  plugins: readonly { owner: string; name: string }[];
}

/** A packager's result: the artifact's bytes and the extras of its flavour, typed. */
export interface PackagedAs<F extends Flavour> extends Packaged {
  extra: ArtifactExtras[F];
}

export interface Packager<F extends Flavour = Flavour> {
  flavour: F;
  /** The scope this flavour always generates with, when it ignores the requested one (Go, npm: `module`). */
  fixedScope?: Scope;
  /** Extra plugin options this flavour needs (e.g. npm import rewriting); the template's parameter comes first. */
  extraOptions?(plugin: PluginVersion, ctx: PackageContext): string[];
  /**
   * The dependency commits' artifacts of this flavour (same template version) are generated before this one and
   * handed over in `dependencyArtifacts`. They are generated outside the concurrency limit's slot of this one, so a
   * chain of dependencies can never hold every slot while waiting for one.
   */
  needsDependencyArtifacts?: boolean;
  package(files: readonly GeneratedFile[], ctx: PackageContext): Promise<PackagedAs<F>>;
}
