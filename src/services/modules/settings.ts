// A module's settings: creating one before its first push; its visibility, which keeps "public never depends on
// private" in both directions; its description, default label and deprecation.
import { Code, RegistryError } from "../../core/errors.js";
import { checkLabel, type FullName } from "../../core/names.js";
import type { Module, Visibility } from "../../core/types.js";
import type { ModuleChange, ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import type { Principal } from "../auth.js";
import { nameDependents } from "../lifecycle/deletion.js";
import { type ServedDays, servedWithin } from "../lifecycle/last-served.js";
import { keepNamesForever, type NameQuarantine } from "../lifecycle/quarantine.js";
import type { Quotas } from "../quotas.js";
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
   * ones the caller may see) or, when configured, while its packages are being downloaded. Its commits and bytes
   * stay; its name answers 410 and is quarantined (docs/lifecycle.md).
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

/** What the settings rules use. */
type SettingsDeps = {
  meta: Pick<
    ModuleStore,
    | "createModule"
    | "listDependents"
    | "listDependencies"
    | "setVisibility"
    | "updateModule"
    | "listLabels"
    | "deleteModule"
    | "getModule"
    | "getModuleById"
  >;
  access: Pick<AccessPolicy, "requireWrite" | "requireManage" | "canRead">;
  reads: Pick<ModuleReads, "getModule">;
  defaultVisibility: Visibility;
  audit?: Pick<AuditTrail, "record">;
  /** Whether a deleted module's name may be created again (default: never). */
  quarantine?: NameQuarantine | undefined;
  /** Refuse deleting a module whose artifacts were served within this many days; 0 or absent: no such check. */
  refuseDeleteIfServedWithinDays?: number | undefined;
  servedDays?: Pick<ServedDays, "flush"> | undefined;
  now?: () => number;
  /** Per-owner quotas (services/quotas.ts), checked before a module is created. */
  quotas?: Pick<Quotas, "checkNewModule">;
};

/** Why the module may not take `visibility`, if it may not: public never depends on private. */
async function visibilityConflict(
  d: SettingsDeps,
  mod: Module,
  visibility: Visibility,
): Promise<string | undefined> {
  const name = `${mod.owner}/${mod.name}`;
  if (visibility === "private") {
    const publicDependents = (await d.meta.listDependents(mod.id)).filter((m) => m.visibility === "public");
    if (publicDependents.length === 0) return undefined;
    return `module ${name} cannot become private: public modules depend on it (${publicDependents
      .map((m) => `${m.owner}/${m.name}`)
      .join(", ")}); make them private first`;
  }
  const privateDeps = (await d.meta.listDependencies(mod.id)).filter((m) => m.visibility === "private");
  if (privateDeps.length === 0) return undefined;
  return `module ${name} cannot become public: it depends on private modules (${privateDeps
    .map((m) => `${m.owner}/${m.name}`)
    .join(", ")}); a public module never depends on a private one`;
}

/** The default label must name a label once the module has any, or every unlabelled reference would fail. */
async function checkDefaultLabel(d: SettingsDeps, mod: Module, label: string): Promise<string> {
  const checked = checkLabel(label);
  const labels = (await d.meta.listLabels(mod.id)).map((l) => l.name);
  if (labels.length > 0 && !labels.includes(checked)) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `module ${mod.owner}/${mod.name} has no label "${checked}" (labels: ${labels.join(", ")}): push with that label first`,
      { owner: mod.owner, module: mod.name, ref: checked },
    );
  }
  return checked;
}

/** One event per kind of change an update made: its visibility, and its other settings. */
async function auditUpdate(
  d: SettingsDeps,
  principal: Principal,
  mod: Module,
  visibility: Visibility | undefined,
  settings: ModuleChange,
): Promise<void> {
  const target = `${mod.owner}/${mod.name}`;
  if (visibility && visibility !== mod.visibility) {
    await d.audit?.record(principal, {
      action: "module.visibility",
      target,
      owner: mod.owner,
      before: { visibility: mod.visibility },
      after: { visibility },
    });
  }
  if (Object.keys(settings).length === 0) return;
  const before = {
    description: mod.description ?? "",
    deprecation: mod.deprecation ?? null,
    defaultLabel: mod.defaultLabel,
  };
  const changed = Object.keys(settings) as (keyof ModuleChange)[];
  await d.audit?.record(principal, {
    action:
      settings.deprecation === undefined
        ? "module.settings"
        : settings.deprecation === null
          ? "module.undeprecate"
          : "module.deprecate",
    target,
    owner: mod.owner,
    before: Object.fromEntries(changed.map((k) => [k, before[k as keyof typeof before] ?? null])),
    after: { ...settings },
  });
}

async function createModule(
  d: SettingsDeps,
  principal: Principal,
  name: FullName,
  opts: Parameters<ModuleSettings["createModule"]>[2],
): Promise<Module> {
  await d.access.requireWrite(principal, name.owner, "create modules", name.name);
  await d.quotas?.checkNewModule(name.owner);
  await (d.quarantine ?? keepNamesForever).reclaim("module", await d.meta.getModule(name.owner, name.name));
  const mod = await d.meta.createModule({
    owner: name.owner,
    name: name.name,
    visibility: opts.visibility ?? d.defaultVisibility,
    defaultLabel: checkLabel(opts.defaultLabel || "main"),
  });
  let created = mod;
  if (opts.description) {
    const description = checkText("description", opts.description, maxDescription);
    await d.meta.updateModule(mod.id, { description });
    created = { ...mod, description };
  }
  await d.audit?.record(principal, {
    action: "module.create",
    target: `${mod.owner}/${mod.name}`,
    owner: mod.owner,
    after: { visibility: mod.visibility, defaultLabel: mod.defaultLabel },
  });
  return created;
}

async function updateModule(
  d: SettingsDeps,
  principal: Principal,
  name: FullName,
  change: ModuleUpdate,
): Promise<Module> {
  // Visibility and deprecation are owner decisions (asking for them at all, even unchanged); both checks
  // precede the lookup.
  if (change.visibility || change.deprecation !== undefined)
    await d.access.requireManage(principal, name.owner, ownerDecision(change), name.name);
  else await d.access.requireWrite(principal, name.owner, "change modules", name.name);
  const mod = await d.reads.getModule(principal, name);
  const settings: ModuleChange = {};
  if (change.description !== undefined)
    settings.description = checkText("description", change.description, maxDescription);
  if (change.deprecation !== undefined)
    settings.deprecation =
      change.deprecation === null
        ? null
        : checkText("deprecation message", change.deprecation, maxDeprecation);
  if (change.defaultLabel !== undefined)
    settings.defaultLabel = await checkDefaultLabel(d, mod, change.defaultLabel);
  const visibility = change.visibility;
  if (visibility && visibility !== mod.visibility) {
    const conflict = await visibilityConflict(d, mod, visibility);
    if (conflict) {
      throw new RegistryError(Code.FailedPrecondition, conflict, {
        owner: name.owner,
        module: name.name,
      });
    }
  }
  // Everything is checked before anything changes: a refused update leaves the module as it was.
  if (visibility && visibility !== mod.visibility) await d.meta.setVisibility("module", mod.id, visibility);
  await d.meta.updateModule(mod.id, settings);
  await auditUpdate(d, principal, mod, visibility, settings);
  return withSettings({ ...mod, ...(visibility ? { visibility } : {}) }, settings);
}

/** Refuses deleting a module whose artifacts someone downloaded recently (lifecycle.refuseDeleteIfServedWithinDays). */
async function refuseIfServed(d: SettingsDeps, mod: Module): Promise<void> {
  const days = d.refuseDeleteIfServedWithinDays ?? 0;
  if (days <= 0) return;
  await d.servedDays?.flush();
  // Uncached: the day is recorded without moving any cached module.
  const lastServedOn = (await d.meta.getModuleById(mod.id))?.lastServedOn;
  if (!servedWithin(lastServedOn, days, (d.now ?? Date.now)())) return;
  throw new RegistryError(
    Code.FailedPrecondition,
    `module ${mod.owner}/${mod.name} cannot be deleted: packages generated from it were downloaded on ${lastServedOn}, within the last ${days} days (lifecycle.refuseDeleteIfServedWithinDays); someone still installs them`,
    { owner: mod.owner, module: mod.name },
  );
}

async function deleteModule(d: SettingsDeps, principal: Principal, name: FullName): Promise<void> {
  await d.access.requireManage(principal, name.owner, "delete modules", name.name);
  const mod = await d.reads.getModule(principal, name);
  await refuseIfServed(d, mod);
  const result = await d.meta.deleteModule(mod.id);
  if (result === "has-dependents") {
    const dependents = (await d.meta.listDependents(mod.id)).filter((m) => m.deletedAt === undefined);
    const named = await nameDependents(d.access, principal, dependents);
    throw new RegistryError(
      Code.FailedPrecondition,
      `module ${name.owner}/${name.name} cannot be deleted: other modules depend on its commits (${named}); nothing installed may break, so delete those first`,
      { owner: name.owner, module: name.name },
    );
  }
  if (result === "missing")
    throw new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`);
  await d.audit?.record(principal, {
    action: "module.delete",
    target: `${mod.owner}/${mod.name}`,
    owner: mod.owner,
    before: { visibility: mod.visibility },
  });
}

export function createModuleSettings(d: SettingsDeps): ModuleSettings {
  return {
    createModule: (principal, name, opts) => createModule(d, principal, name, opts),
    updateModule: (principal, name, change) => updateModule(d, principal, name, change),
    deleteModule: (principal, name) => deleteModule(d, principal, name),
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
