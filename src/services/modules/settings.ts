// A module's settings: creating one before its first push; its visibility, which keeps "public never depends on
// private" in both directions; its description, default label and deprecation.
import { Code, RegistryError } from "../../core/errors.js";
import { checkLabel, type FullName } from "../../core/names.js";
import type { Module, Visibility } from "../../core/types.js";
import type { ModuleChange, ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { Principal } from "../auth.js";
import type { ModuleReads } from "./reads.js";

export interface ModuleSettings {
  /** A module with no commits yet, so its visibility (and default label) can be set before the first push. */
  createModule(
    principal: Principal,
    name: FullName,
    opts: { visibility?: Visibility; defaultLabel?: string; description?: string },
  ): Promise<Module>;
  /**
   * Changes visibility, keeping "public never depends on private": a module with public dependents stays public,
   * and a module that depends on private ones stays private.
   */
  updateModule(principal: Principal, name: FullName, change: ModuleUpdate): Promise<Module>;
  /**
   * Deletes a module (an owner decision), refused while another module depends on one of its commits (naming the
   * ones the caller may see). Its commits and bytes stay; its name answers 410 and is never taken again.
   */
  deleteModule(principal: Principal, name: FullName): Promise<void>;
}

/** What updateModule may change; fields left out keep their value. */
export interface ModuleUpdate {
  /** An owner decision. */
  visibility?: Visibility;
  description?: string;
  /** Must be one of the module's labels once it has any. */
  defaultLabel?: string;
  /** An owner decision: a message (possibly empty) deprecates, null undeprecates. */
  deprecation?: string | null;
}

/** As long as buf's own limit, so what buf shows is never cut. */
export const maxDescription = 350;
const maxDeprecation = 1000;

export function createModuleSettings({
  meta,
  access,
  reads,
  defaultVisibility,
}: {
  meta: Pick<
    ModuleStore,
    | "createModule"
    | "listDependents"
    | "listDependencies"
    | "setVisibility"
    | "updateModule"
    | "listLabels"
    | "deleteModule"
  >;
  access: Pick<AccessPolicy, "requireWrite" | "requireManage" | "canRead">;
  reads: Pick<ModuleReads, "getModule">;
  defaultVisibility: Visibility;
}): ModuleSettings {
  /** Why the module may not take `visibility`, if it may not: public never depends on private. */
  async function visibilityConflict(mod: Module, visibility: Visibility): Promise<string | undefined> {
    const name = `${mod.owner}/${mod.name}`;
    if (visibility === "private") {
      const publicDependents = (await meta.listDependents(mod.id)).filter((m) => m.visibility === "public");
      if (publicDependents.length === 0) return undefined;
      return `module ${name} cannot become private: public modules depend on it (${publicDependents
        .map((m) => `${m.owner}/${m.name}`)
        .join(", ")}); make them private first`;
    }
    const privateDeps = (await meta.listDependencies(mod.id)).filter((m) => m.visibility === "private");
    if (privateDeps.length === 0) return undefined;
    return `module ${name} cannot become public: it depends on private modules (${privateDeps
      .map((m) => `${m.owner}/${m.name}`)
      .join(", ")}); a public module never depends on a private one`;
  }

  /** The default label must name a label once the module has any, or every unlabelled reference would fail. */
  async function checkDefaultLabel(mod: Module, label: string): Promise<string> {
    const checked = checkLabel(label);
    const labels = (await meta.listLabels(mod.id)).map((l) => l.name);
    if (labels.length > 0 && !labels.includes(checked)) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `module ${mod.owner}/${mod.name} has no label "${checked}" (labels: ${labels.join(", ")}): push with that label first`,
        { owner: mod.owner, module: mod.name, ref: checked },
      );
    }
    return checked;
  }

  return {
    async createModule(principal, name, opts) {
      await access.requireWrite(principal, name.owner, "create modules");
      const mod = await meta.createModule({
        owner: name.owner,
        name: name.name,
        visibility: opts.visibility ?? defaultVisibility,
        defaultLabel: checkLabel(opts.defaultLabel || "main"),
      });
      if (!opts.description) return mod;
      const description = checkText("description", opts.description, maxDescription);
      await meta.updateModule(mod.id, { description });
      return { ...mod, description };
    },
    async updateModule(principal, name, change) {
      // Visibility and deprecation are owner decisions (asking for them at all, even unchanged); both checks
      // precede the lookup.
      if (change.visibility || change.deprecation !== undefined)
        await access.requireManage(principal, name.owner, ownerDecision(change));
      else await access.requireWrite(principal, name.owner, "change modules");
      const mod = await reads.getModule(principal, name);
      const settings: ModuleChange = {};
      if (change.description !== undefined)
        settings.description = checkText("description", change.description, maxDescription);
      if (change.deprecation !== undefined)
        settings.deprecation =
          change.deprecation === null
            ? null
            : checkText("deprecation message", change.deprecation, maxDeprecation);
      if (change.defaultLabel !== undefined)
        settings.defaultLabel = await checkDefaultLabel(mod, change.defaultLabel);
      const visibility = change.visibility;
      if (visibility && visibility !== mod.visibility) {
        const conflict = await visibilityConflict(mod, visibility);
        if (conflict) {
          throw new RegistryError(Code.FailedPrecondition, conflict, {
            owner: name.owner,
            module: name.name,
          });
        }
      }
      // Everything is checked before anything changes: a refused update leaves the module as it was.
      if (visibility && visibility !== mod.visibility) await meta.setVisibility("module", mod.id, visibility);
      await meta.updateModule(mod.id, settings);
      return withSettings({ ...mod, ...(visibility ? { visibility } : {}) }, settings);
    },
    async deleteModule(principal, name) {
      await access.requireManage(principal, name.owner, "delete modules");
      const mod = await reads.getModule(principal, name);
      const refuse = async () => {
        const dependents = (await meta.listDependents(mod.id)).filter((m) => m.deletedAt === undefined);
        const seen = [];
        for (const m of dependents) if (await access.canRead(principal, m)) seen.push(`${m.owner}/${m.name}`);
        const hidden = dependents.length - seen.length;
        const named = [...seen, ...(hidden > 0 ? [`${hidden} you cannot see`] : [])].join(", ");
        return new RegistryError(
          Code.FailedPrecondition,
          `module ${name.owner}/${name.name} cannot be deleted: other modules depend on its commits (${named}); nothing installed may break, so delete those first`,
          { owner: name.owner, module: name.name },
        );
      };
      const result = await meta.deleteModule(mod.id);
      if (result === "has-dependents") throw await refuse();
      if (result === "missing")
        throw new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`);
    },
  };
}

function ownerDecision(change: ModuleUpdate): string {
  if (change.deprecation === undefined) return "change the visibility of modules";
  return change.deprecation === null ? "undeprecate modules" : "deprecate modules";
}

function checkText(what: string, text: string, max: number): string {
  if (text.length > max) {
    throw new RegistryError(
      Code.InvalidArgument,
      `${what} is ${text.length} characters long; at most ${max} are kept`,
    );
  }
  return text;
}

/** The module as it reads after `settings` are stored (an empty description and null deprecation are absent). */
function withSettings(mod: Module, settings: ModuleChange): Module {
  const { description, deprecation, ...rest } = mod;
  const d = settings.description ?? description;
  const dep = settings.deprecation === undefined ? deprecation : settings.deprecation;
  return {
    ...rest,
    ...(settings.defaultLabel !== undefined ? { defaultLabel: settings.defaultLabel } : {}),
    ...(d ? { description: d } : {}),
    ...(dep !== null && dep !== undefined ? { deprecation: dep } : {}),
  };
}
