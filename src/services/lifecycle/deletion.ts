// Deleting plugins and templates (modules: modules/settings.ts): owner decisions, refused while anything depends on
// the thing or (config lifecycle.refuseDeleteIfServedWithinDays) while its artifacts are still being served.
import { Code, RegistryError } from "../../core/errors.js";
import { type FullName, parseFullName } from "../../core/names.js";
import type { DeletionStore, PluginStore, TemplateStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import type { Principal } from "../auth.js";
import { type ServedDays, servedWithin } from "./last-served.js";
import { type DeletableThing, type DeletedKind, type QuarantinePolicy, reservedName } from "./quarantine.js";

export interface DeletionService {
  /** Refused while a template (not deleted) runs the plugin or pins one of its versions. */
  deletePlugin(principal: Principal, fullName: string): Promise<void>;
  /** Refused while a module or an owner pre-generates with it, or while its artifacts are being served. */
  deleteTemplate(principal: Principal, fullName: string): Promise<void>;
}

export interface DeletionServiceOptions {
  meta: Pick<
    DeletionStore,
    "deletePlugin" | "listPluginUsers" | "deleteTemplate" | "listTemplateSubscribers"
  > &
    Pick<PluginStore, "getPlugin"> &
    Pick<TemplateStore, "getTemplate">;
  access: Pick<AccessPolicy, "requireManage" | "readOwned" | "canRead">;
  quarantine: QuarantinePolicy;
  /** Days within which a served template is not deleted; 0: no such check. */
  refuseIfServedWithinDays: number;
  servedDays?: Pick<ServedDays, "flush"> | undefined;
  audit?: Pick<AuditTrail, "record"> | undefined;
  now?: () => number;
}

/** `a, b and 2 you cannot see`: the dependents the caller may see by name, the others counted. */
export async function nameDependents<T extends DeletableThing>(
  access: Pick<AccessPolicy, "canRead">,
  principal: Principal,
  things: readonly T[],
): Promise<string> {
  const seen: string[] = [];
  for (const t of things) if (await access.canRead(principal, t)) seen.push(`${t.owner}/${t.name}`);
  const hidden = things.length - seen.length;
  return [...seen, ...(hidden > 0 ? [`${hidden} you cannot see`] : [])].join(", ");
}

/** The thing under `name` for an owner's decision: NotFound when hidden or absent, Gone when already deleted. */
async function lookUp<T extends DeletableThing>(
  o: DeletionServiceOptions,
  principal: Principal,
  kind: DeletedKind,
  name: FullName,
  found: T | undefined,
): Promise<T> {
  const full = `${name.owner}/${name.name}`;
  const missing = () => new RegistryError(Code.NotFound, `${kind} ${full} does not exist`);
  const thing = await o.access.readOwned(principal, found, missing);
  if (thing.deletedAt !== undefined)
    throw reservedName(kind, { ...thing, deletedAt: thing.deletedAt }, o.quarantine);
  return thing;
}

async function deletePlugin(o: DeletionServiceOptions, principal: Principal, fullName: string) {
  const name = parseFullName("plugin", fullName);
  await o.access.requireManage(principal, name.owner, "delete plugins");
  const plugin = await lookUp(o, principal, "plugin", name, await o.meta.getPlugin(name.owner, name.name));
  const result = await o.meta.deletePlugin(plugin.id);
  if (result === "has-dependents") {
    const users = await nameDependents(
      o.access,
      principal,
      await o.meta.listPluginUsers(name.owner, name.name),
    );
    throw new RegistryError(
      Code.FailedPrecondition,
      `plugin ${fullName} cannot be deleted: templates run it or pin one of its versions (${users}); generated code must stay reproducible, so delete those templates first`,
      { plugin: fullName },
    );
  }
  if (result === "missing") throw new RegistryError(Code.NotFound, `plugin ${fullName} does not exist`);
  await o.audit?.record(principal, {
    action: "plugin.delete",
    target: fullName,
    owner: plugin.owner,
    before: { visibility: plugin.visibility },
  });
}

async function deleteTemplate(o: DeletionServiceOptions, principal: Principal, fullName: string) {
  const name = parseFullName("template", fullName);
  await o.access.requireManage(principal, name.owner, "delete templates");
  const template = await lookUp(
    o,
    principal,
    "template",
    name,
    await o.meta.getTemplate(name.owner, name.name),
  );
  if (o.refuseIfServedWithinDays > 0) {
    await o.servedDays?.flush();
    const fresh = await o.meta.getTemplate(name.owner, name.name);
    if (servedWithin(fresh?.lastServedOn, o.refuseIfServedWithinDays, (o.now ?? Date.now)())) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `template ${fullName} cannot be deleted: its generated packages were downloaded on ${fresh?.lastServedOn}, within the last ${o.refuseIfServedWithinDays} days (lifecycle.refuseDeleteIfServedWithinDays); someone still installs them`,
        { template: fullName },
      );
    }
  }
  const result = await o.meta.deleteTemplate(template.id);
  if (result === "has-dependents") {
    const { modules, owners } = await o.meta.listTemplateSubscribers(template.id);
    const named = [
      ...(modules.length > 0 ? [`modules ${await nameDependents(o.access, principal, modules)}`] : []),
      ...(owners.length > 0 ? [`owners ${owners.join(", ")}`] : []),
    ].join("; ");
    throw new RegistryError(
      Code.FailedPrecondition,
      `template ${fullName} cannot be deleted: it is pre-generated for ${named}; remove it from their pregenerate lists first`,
      { template: fullName },
    );
  }
  if (result === "missing") throw new RegistryError(Code.NotFound, `template ${fullName} does not exist`);
  await o.audit?.record(principal, {
    action: "template.delete",
    target: fullName,
    owner: template.owner,
    before: { visibility: template.visibility },
  });
}

export function createDeletionService(o: DeletionServiceOptions): DeletionService {
  return {
    deletePlugin: (principal, fullName) => deletePlugin(o, principal, fullName),
    deleteTemplate: (principal, fullName) => deleteTemplate(o, principal, fullName),
  };
}
