// Plugin options every flavour needs: Go import paths for Go plugins (module files and each dependency's files).

import { pluginEcosystem } from "../core/plugin-ecosystem.js";
import type { CommitFile, PluginVersion, Template } from "../core/types.js";
import { goImportOptions, goModulePath } from "../ecosystems/go/names.js";

/**
 * A Go plugin gets Go import paths: its version's ecosystem is go (declared, or implied by a Go runtime library).
 * Not the runtime libraries alone: a protogen plugin whose output imports nothing needs the paths all the same.
 */
export function isGoPlugin(plugin: PluginVersion): boolean {
  return pluginEcosystem(plugin) === "go";
}

export interface ModuleFiles {
  owner: string;
  module: string;
  files: readonly CommitFile[];
}

/**
 * `M{file}={import path}` for the module's files and every dependency module's files, each under its own
 * generated Go module; well-known types keep their upstream go_package.
 */
export function goOptions(goHost: string, template: Template, modules: readonly ModuleFiles[]): string[] {
  return modules.flatMap((m) => {
    const path = goModulePath({
      goHost,
      templateOwner: template.owner,
      templateName: template.name,
      moduleOwner: m.owner,
      moduleName: m.module,
    });
    const protos = m.files.map((f) => f.path).filter((p) => p.endsWith(".proto"));
    return goImportOptions(path, m.module, protos);
  });
}

/** Joins a template's parameter with extra options the way protoc plugins read them: comma-separated. */
export function joinParameter(parameter: string, extra: readonly string[]): string {
  return [parameter, ...extra].filter((p) => p !== "").join(",");
}
