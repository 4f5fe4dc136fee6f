// A wheel that builds on another template's wheel: python-grpc's stubs import python's `_pb2` modules, and two
// wheels that both hold `x_pb2.py` overwrite each other in site-packages (the second install silently wins, and
// uninstalling either removes the file of both). A plugin version names the template that publishes the files it
// builds on (`{"python":{"base":"protodepot/python"}}`): a template running that base's plugins with the same
// parameters then leaves their output out of its wheel and requires the base's wheel of the same commit instead.
import { parseFullName } from "../core/names.js";
import type { PluginVersion, Template, TemplateVersion } from "../core/types.js";
import type { PypiBase } from "../generate/package/packager.js";
import type { TemplateStore } from "../storage/meta/metadata-store.js";
import type { GenerationTemplates } from "./artifact-resolver.js";
import type { Principal } from "./auth.js";

/** The base template a plugin version names in its registry options, if any. */
export function declaredPypiBase(plugin: PluginVersion): string | undefined {
  const python = plugin.registryOptions.python;
  if (typeof python !== "object" || python === null || !("base" in python)) return undefined;
  const base = (python as { base: unknown }).base;
  return typeof base === "string" ? base : undefined;
}

/**
 * The base of a template version's wheels: the first base a plugin names whose plugins the template runs with the
 * same parameters, at the base's oldest version that pins the same plugin versions (versions never change, so the
 * answer never does once it exists). Undefined: the wheel holds every file, as without a base.
 */
export async function findPypiBase(
  deps: {
    templates: Pick<GenerationTemplates, "getTemplate">;
    meta: Pick<TemplateStore, "listTemplateVersions">;
  },
  principal: Principal,
  template: Template,
  version: TemplateVersion,
  plugins: readonly PluginVersion[],
): Promise<PypiBase | undefined> {
  for (const name of new Set(plugins.map(declaredPypiBase))) {
    if (!name || name === `${template.owner}/${template.name}`) continue;
    let base: Template;
    try {
      base = await deps.templates.getTemplate(principal, parseFullName("template", name));
    } catch {
      // A base the caller cannot read (or that is gone) is no base: the wheel stays whole.
      continue;
    }
    const mine = base.plugins.map((bp) =>
      template.plugins.findIndex(
        (tp) => tp.owner === bp.owner && tp.name === bp.name && tp.parameter === bp.parameter,
      ),
    );
    if (mine.some((i) => i < 0)) continue;
    const pins = mine.map((i) => version.plugins[i]);
    const match = (await deps.meta.listTemplateVersions(base.id))
      .filter((v) => v.plugins.every((p, j) => p.version === pins[j]?.version))
      .sort((a, b) => a.number - b.number)[0];
    if (!match) continue;
    return {
      template: { owner: base.owner, name: base.name },
      templateVersion: match.number,
      plugins: base.plugins.map((p) => ({ owner: p.owner, name: p.name })),
    };
  }
  return undefined;
}
