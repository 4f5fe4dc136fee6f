// Deprecation of plugins and templates (an owner decision, audited), and what a package's consumers are told now:
// its module's, its template's and the pinned plugins' deprecations (docs/lifecycle.md).
import { deprecationNotice, maxDeprecationChars } from "../core/deprecation.js";
import { Code, RegistryError } from "../core/errors.js";
import type { FullName } from "../core/names.js";
import type { Plugin, Template } from "../core/types.js";
import type { ModuleStore, PluginStore, TemplateStore } from "../storage/meta/metadata-store.js";
import type { AuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";

/** A message (possibly empty) deprecates; null undeprecates; absent leaves it. */
export type DeprecationChange = string | null | undefined;

/** Refuses a message past the bound, before anything is looked up. */
export function checkDeprecation(change: DeprecationChange): void {
  if (typeof change === "string" && change.length > maxDeprecationChars) {
    throw new RegistryError(
      Code.InvalidArgument,
      `deprecation message is ${change.length} characters long; at most ${maxDeprecationChars} are kept`,
    );
  }
}

/**
 * Stores a plugin's or template's new deprecation and audits it; nothing is written (or audited) when it is
 * already so. The caller has checked the owner role. Answers the thing as it reads afterwards.
 */
export async function applyDeprecation<T extends Plugin | Template>(
  c: {
    meta: Pick<ModuleStore, "setDeprecation">;
    audit?: Pick<AuditTrail, "record"> | undefined;
  },
  principal: Principal,
  kind: "plugin" | "template",
  thing: T,
  change: string | null,
): Promise<T> {
  const before = thing.deprecation ?? null;
  if (before === change) return thing;
  await c.meta.setDeprecation(kind, thing.id, change);
  await c.audit?.record(principal, {
    action: `${kind}.${change === null ? "undeprecate" : "deprecate"}`,
    target: `${thing.owner}/${thing.name}`,
    owner: thing.owner,
    before: { deprecation: before },
    after: { deprecation: change },
  });
  const { deprecation: _, ...rest } = thing;
  return (change === null ? rest : { ...rest, deprecation: change }) as T;
}

/** What consumers of a template version's output are told: the template's and its pinned plugins' deprecations. */
export function templateNotice(
  template: Template,
  plugins: readonly Pick<Plugin, "owner" | "name" | "deprecation">[],
): string | undefined {
  return deprecationNotice([
    { kind: "template", owner: template.owner, name: template.name, deprecation: template.deprecation },
    ...plugins.map((p) => ({
      kind: "plugin" as const,
      owner: p.owner,
      name: p.name,
      deprecation: p.deprecation,
    })),
  ]);
}

export interface PackageDeprecations {
  /**
   * What consumers of each template version's output over the module are told now, by template version number
   * (absent: nothing deprecated). For a package the caller was already allowed to list.
   */
  ofPackage(pkg: { template: FullName; module: FullName }): Promise<ReadonlyMap<number, string>>;
}

export function createPackageDeprecations(
  meta: Pick<ModuleStore, "getModule"> &
    Pick<TemplateStore, "getTemplate" | "listTemplateVersions"> &
    Pick<PluginStore, "getPlugin">,
): PackageDeprecations {
  return {
    async ofPackage(pkg) {
      const [mod, template] = await Promise.all([
        meta.getModule(pkg.module.owner, pkg.module.name),
        meta.getTemplate(pkg.template.owner, pkg.template.name),
      ]);
      const out = new Map<number, string>();
      if (!mod || !template) return out;
      const versions = await meta.listTemplateVersions(template.id);
      const pluginNames = new Set(versions.flatMap((v) => v.plugins.map((p) => `${p.owner}/${p.name}`)));
      const plugins = await Promise.all(
        [...pluginNames].map((n) => {
          const [owner = "", name = ""] = n.split("/");
          return meta.getPlugin(owner, name);
        }),
      );
      const deprecated = new Map(
        plugins.flatMap((p) => (p?.deprecation !== undefined ? [[`${p.owner}/${p.name}`, p] as const] : [])),
      );
      const moduleNotice = deprecationNotice([
        { kind: "module", owner: mod.owner, name: mod.name, deprecation: mod.deprecation },
      ]);
      for (const v of versions) {
        const pinned = v.plugins.flatMap((p) => deprecated.get(`${p.owner}/${p.name}`) ?? []);
        const parts = [moduleNotice, templateNotice(template, pinned)].filter(
          (p): p is string => p !== undefined,
        );
        if (parts.length > 0) out.set(v.number, parts.join("; "));
      }
      return out;
    },
  };
}
