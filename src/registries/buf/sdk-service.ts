// `buf registry sdk version --module M[:REF] --plugin T[:VERSION]`: v1alpha1 PluginCurationService (which package
// registry to ask) and ResolveService (the synthetic version there). protodepot's SDKs are made by templates, so
// --plugin names a template; the answer is exactly the version our Go proxy, npm, PyPI and Maven registries serve
// for that commit and template version (docs/architecture.md, synthetic versions).
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import { goVersion, type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";
import type { Template, TemplateVersion } from "../../core/types.js";
import {
  type PluginCurationService,
  PluginRegistryType,
} from "../../gen/buf/alpha/registry/v1alpha1/plugin_curation_pb.js";
import type {
  GetRemotePackageVersionPlugin,
  LocalModuleReference,
  ResolveService,
} from "../../gen/buf/alpha/registry/v1alpha1/resolve_pb.js";
import type { Principal } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";
import { parseTemplateVersionName, type TemplateService } from "../../services/templates.js";

/** A template version the caller may generate with: the template, and every plugin it runs, readable. */
async function templateVersion(
  templates: TemplateService,
  caller: Principal,
  ref: { owner: string; name: string; version: string },
): Promise<{ template: Template; version: TemplateVersion }> {
  const template = await templates.getTemplate(caller, parseFullName("template", `${ref.owner}/${ref.name}`));
  await templates.checkPluginsReadable(caller, template);
  if (ref.version) {
    return { template, version: await templates.getVersion(template, parseTemplateVersionName(ref.version)) };
  }
  const versions = await templates.listVersions(caller, `${template.owner}/${template.name}`);
  const latest = versions.reduce<TemplateVersion | undefined>(
    (a, b) => (a === undefined || b.number > a.number ? b : a),
    undefined,
  );
  if (!latest) {
    throw new RegistryError(
      Code.NotFound,
      `template ${template.owner}/${template.name} has no versions yet`,
      {
        plugin: `${template.owner}/${template.name}`,
      },
    );
  }
  return { template, version: latest };
}

/**
 * The registry buf should ask: the first ecosystem whose runtime libraries the template's plugins declare (Go, npm,
 * Python, Maven), else Go, whose proxy serves every template.
 */
async function registryType(
  templates: TemplateService,
  caller: Principal,
  t: { template: Template; version: TemplateVersion },
): Promise<PluginRegistryType> {
  const plugins = await templates.resolvePlugins(caller, t.template, t.version);
  const declares = (e: "go" | "npm" | "python" | "maven") =>
    plugins.some((p) => (p.version.runtimeLibraries[e] ?? []).length > 0);
  if (declares("go")) return PluginRegistryType.GO;
  if (declares("npm")) return PluginRegistryType.NPM;
  if (declares("python")) return PluginRegistryType.PYTHON;
  if (declares("maven")) return PluginRegistryType.MAVEN;
  return PluginRegistryType.GO;
}

export function createPluginCurationService(
  templates: TemplateService,
): ServiceImpl<typeof PluginCurationService> {
  return {
    async getLatestCuratedPlugin(req, ctx) {
      const caller = await principal(ctx);
      const t = await templateVersion(templates, caller, req);
      return {
        plugin: {
          id: t.template.id,
          owner: t.template.owner,
          name: t.template.name,
          registryType: await registryType(templates, caller, t),
          version: `v${t.version.number}`,
        },
      };
    },
  };
}

export function createResolveService(
  modules: ModuleService,
  templates: TemplateService,
): ServiceImpl<typeof ResolveService> {
  /** The template version and the commit, resolved once each, as the synthetic version both name. */
  async function synthetic(
    caller: Principal,
    plugin: GetRemotePackageVersionPlugin | undefined,
    mod: LocalModuleReference | undefined,
  ): Promise<SyntheticVersion> {
    if (!plugin || !mod) {
      throw new RegistryError(Code.InvalidArgument, "plugin_reference and module_reference are required");
    }
    const t = await templateVersion(templates, caller, plugin);
    const name = parseFullName("module", `${mod.owner}/${mod.repository}`);
    const commit = await modules.resolveRef(caller, name, mod.reference);
    return { templateVersion: t.version.number, commitSeq: commit.seq };
  }

  return {
    async getGoVersion(req, ctx) {
      return {
        version: goVersion(await synthetic(await principal(ctx), req.pluginReference, req.moduleReference)),
      };
    },
    async getNPMVersion(req, ctx) {
      const v = await synthetic(await principal(ctx), req.pluginReference, req.moduleReference);
      return { version: semverVersion(v) };
    },
    async getPythonVersion(req, ctx) {
      const v = await synthetic(await principal(ctx), req.pluginReference, req.moduleReference);
      return { version: semverVersion(v) };
    },
    async getMavenVersion(req, ctx) {
      const v = await synthetic(await principal(ctx), req.pluginReference, req.moduleReference);
      return { version: semverVersion(v) };
    },
  };
}
