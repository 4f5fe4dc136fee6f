// Modules, commits and labels: the module service composed from its parts (modules/reads.ts, push.ts, labels.ts,
// push-policies.ts, digests.ts, dependencies.ts), and the module settings (creating one, its visibility).
import type { SchemaChecker } from "../compile/buf-checks.js";
import type { Compiler } from "../compile/buf-compiler.js";
import { Code, RegistryError } from "../core/errors.js";
import { checkLabel, type FullName } from "../core/names.js";
import type { Commit, Module, Visibility } from "../core/types.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { ModuleStore, OwnerStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { Principal } from "./auth.js";
import { createDependencyPinning } from "./modules/dependencies.js";
import { createModuleDigests, type ModuleDigests } from "./modules/digests.js";
import { createModuleLabels, type ModuleLabels } from "./modules/labels.js";
import { createModulePush, type ModulePush, type PushStore } from "./modules/push.js";
import { createPushPolicies, createPushPolicyRules, type PushPolicies } from "./modules/push-policies.js";
import { createModuleReads, type ModuleReads } from "./modules/reads.js";

export type { ModuleFile } from "./modules/files.js";
export type { PushInput, UploadContent } from "./modules/push.js";
export type { PushPolicyChange } from "./modules/push-policies.js";

export interface ModuleSettings {
  /** A module with no commits yet, so its visibility (and default label) can be set before the first push. */
  createModule(
    principal: Principal,
    name: FullName,
    opts: { visibility?: Visibility; defaultLabel?: string },
  ): Promise<Module>;
  /**
   * Changes visibility, keeping "public never depends on private": a module with public dependents stays public,
   * and a module that depends on private ones stays private.
   */
  updateModule(principal: Principal, name: FullName, change: { visibility?: Visibility }): Promise<Module>;
}

/** Everything about modules a protocol or another service may ask. */
export interface ModuleService
  extends ModuleReads,
    ModulePush,
    ModuleLabels,
    PushPolicies,
    ModuleDigests,
    ModuleSettings {}

/** The stores the module service reads and writes: modules, commits, labels, policies, owners. */
export type ModuleServiceStore = ModuleStore & Pick<OwnerStore, "getOwner"> & Pick<PushStore, "transaction">;

export interface ModuleServiceOptions {
  meta: ModuleServiceStore;
  blobs: BlobStore;
  compiler: Compiler;
  /** buf breaking and buf lint over stored images, for push policies. */
  checker: SchemaChecker;
  access: AccessPolicy;
  limits: { maxFiles: number; maxFileBytes: number };
  /** Visibility of modules created without one (config defaults.visibility). */
  defaultVisibility: Visibility;
  /**
   * Called with each commit a push created (ours or buf's), after it is stored; must not throw or wait (the push
   * answers at once). Pre-generation starts here.
   */
  onCommitted?: (principal: Principal, commit: Commit) => void;
}

export function createModuleService(o: ModuleServiceOptions): ModuleService {
  const { meta, blobs, access } = o;
  const reads = createModuleReads({ meta, blobs, access });
  const digests = createModuleDigests({ meta, readFiles: reads.readFiles });
  const push = createModulePush({
    meta,
    blobs,
    compiler: o.compiler,
    access,
    reads,
    digests,
    pinning: createDependencyPinning({ meta, access, reads }),
    policies: createPushPolicyRules({ meta, blobs, checker: o.checker, access }),
    limits: o.limits,
    defaultVisibility: o.defaultVisibility,
    onCommitted: o.onCommitted,
  });
  return {
    ...reads,
    ...digests,
    ...push,
    ...createModuleLabels({ meta, access, reads }),
    ...createPushPolicies({ meta, access, reads }),
    ...createModuleSettings({ meta, access, reads, defaultVisibility: o.defaultVisibility }),
  };
}

function createModuleSettings({
  meta,
  access,
  reads,
  defaultVisibility,
}: {
  meta: Pick<ModuleStore, "createModule" | "listDependents" | "listDependencies" | "setVisibility">;
  access: AccessPolicy;
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

  return {
    async createModule(principal, name, opts) {
      await access.requireWrite(principal, name.owner, "create modules");
      return meta.createModule({
        owner: name.owner,
        name: name.name,
        visibility: opts.visibility ?? defaultVisibility,
        defaultLabel: checkLabel(opts.defaultLabel || "main"),
      });
    },
    async updateModule(principal, name, change) {
      // Visibility is an owner decision (asking for it at all, even unchanged); both checks precede the lookup.
      if (change.visibility)
        await access.requireManage(principal, name.owner, "change the visibility of modules");
      else await access.requireWrite(principal, name.owner, "change modules");
      const mod = await reads.getModule(principal, name);
      const visibility = change.visibility;
      if (!visibility || visibility === mod.visibility) return mod;
      const conflict = await visibilityConflict(mod, visibility);
      if (conflict) {
        throw new RegistryError(Code.FailedPrecondition, conflict, { owner: name.owner, module: name.name });
      }
      await meta.setVisibility("module", mod.id, visibility);
      return { ...mod, visibility };
    },
  };
}
