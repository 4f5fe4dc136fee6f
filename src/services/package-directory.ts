// Finding packages by name and listing them, for a registry whose names do not split back by themselves (PyPI
// folds `_` into `-`): each reading of a name checked against what exists and what the caller may see.
import { Code, isRegistryError } from "../core/errors.js";
import type { FullName } from "../core/names.js";
import type { PluginVersion } from "../core/types.js";
import type { Principal } from "./auth.js";
import type { PackageRef } from "./catalog.js";
import type { ModuleService } from "./modules.js";
import type { TemplateService } from "./templates.js";

/** Finding packages by name and listing them: what a registry needs whose names do not split back by themselves. */
export interface PackageDirectory {
  /**
   * The readings of a name that exist and the caller may see (template readable, module readable), in the order
   * given, each with the moment it came to exist (the later of its template's and its module's creation).
   * Lookups are shared across candidates: each template owner's templates are listed once, each module read once,
   * so the work is bounded by the distinct prefixes of the name, not by the number of readings.
   */
  find(principal: Principal, candidates: readonly PackageRef[]): Promise<(PackageRef & { since: string })[]>;
  /**
   * Every package the caller may see whose template's newest version runs plugins `accepts` (a registry lists only
   * templates that suit it, e.g. those with a Python runtime library): readable templates × readable modules.
   */
  list(principal: Principal, accepts: (plugins: readonly PluginVersion[]) => boolean): Promise<PackageRef[]>;
}

export function createPackageDirectory(opts: {
  modules: Pick<ModuleService, "getModule" | "listModules">;
  templates: Pick<TemplateService, "listTemplates" | "getTemplate" | "listVersions" | "resolvePlugins">;
}): PackageDirectory {
  const { modules, templates } = opts;
  const missingIsUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (isRegistryError(err, Code.NotFound)) return undefined;
      throw err;
    }
  };
  /**
   * A name nothing else reads as, whose template was deleted (listings leave deleted templates out): Gone, as on
   * every registry, when the caller may see that template and the module exists.
   */
  const refuseDeletedTemplateOf = async (
    principal: Principal,
    unlisted: readonly PackageRef[],
    moduleExists: (c: PackageRef) => Promise<unknown>,
  ): Promise<void> => {
    for (const c of unlisted) {
      try {
        await templates.getTemplate(principal, c.template);
      } catch (err) {
        if (isRegistryError(err, Code.Gone) && (await moduleExists(c)) !== undefined) throw err;
      }
    }
  };
  return {
    async find(principal, candidates) {
      const templatesCreated = new Map<string, Promise<Map<string, string>>>();
      const modulesCreated = new Map<string, Promise<string | undefined>>();
      const memo = <T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
        let p = map.get(key);
        if (!p) {
          p = load();
          map.set(key, p);
        }
        return p;
      };
      const moduleSinceOf = (c: PackageRef) =>
        memo(
          modulesCreated,
          `${c.module.owner}/${c.module.name}`,
          async () => (await missingIsUndefined(modules.getModule(principal, c.module)))?.createdAt,
        );
      const found: (PackageRef & { since: string })[] = [];
      const unlisted: PackageRef[] = [];
      for (const c of candidates) {
        const owner = c.template.owner;
        const created = await memo(
          templatesCreated,
          owner,
          async () =>
            new Map((await templates.listTemplates(principal, owner)).map((t) => [t.name, t.createdAt])),
        );
        const templateSince = created.get(c.template.name);
        if (templateSince === undefined) {
          unlisted.push(c);
          continue;
        }
        const moduleSince = await moduleSinceOf(c);
        if (moduleSince === undefined) continue;
        found.push({ ...c, since: templateSince > moduleSince ? templateSince : moduleSince });
      }
      if (found.length === 0) await refuseDeletedTemplateOf(principal, unlisted, moduleSinceOf);
      return found;
    },

    async list(principal, accepts) {
      const suitable: FullName[] = [];
      for (const t of await templates.listTemplates(principal)) {
        const versions = await templates.listVersions(principal, `${t.owner}/${t.name}`);
        const newest = versions[versions.length - 1];
        if (!newest) continue;
        // A template running a plugin the caller may not read is unusable to them, as if it did not exist.
        const plugins = await missingIsUndefined(templates.resolvePlugins(principal, t, newest));
        if (plugins && accepts(plugins.map((p) => p.version)))
          suitable.push({ owner: t.owner, name: t.name });
      }
      if (suitable.length === 0) return [];
      const mods = await modules.listModules(principal);
      return suitable.flatMap((template) =>
        mods.map((m) => ({ template, module: { owner: m.owner, name: m.name } })),
      );
    },
  };
}
