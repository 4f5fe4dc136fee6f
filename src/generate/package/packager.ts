// How generated files become one registry's artifact. One packager per flavour (archive, go, npm).
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
}

export interface Packager {
  flavour: Flavour;
  /** The scope this flavour always generates with, when it ignores the requested one (Go, npm: `module`). */
  fixedScope?: Scope;
  /** Extra plugin options this flavour needs (e.g. npm import rewriting); the template's parameter comes first. */
  extraOptions?(plugin: PluginVersion, ctx: PackageContext): string[];
  package(files: readonly GeneratedFile[], ctx: PackageContext): Promise<Packaged>;
}
