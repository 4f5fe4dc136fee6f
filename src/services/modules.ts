// Modules, commits and labels: the module service, composed from its parts under modules/ (reads, push and its
// dependency pinning, labels, push policies, digests, settings).
import type { SchemaChecker } from "../compile/buf-checks.js";
import type { Compiler } from "../compile/buf-compiler.js";
import type { Commit, Visibility } from "../core/types.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { ModuleStore, OwnerStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { AuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";
import type { Events } from "./events.js";
import type { ServedDays } from "./lifecycle/last-served.js";
import type { NameQuarantine } from "./lifecycle/quarantine.js";
import { createDependencyPinning } from "./modules/dependencies.js";
import { createModuleDigests, type ModuleDigests } from "./modules/digests.js";
import { createModuleLabels, type ModuleLabels } from "./modules/labels.js";
import { createModulePush, type ModulePush, type PushStore } from "./modules/push.js";
import { createPushPolicies, createPushPolicyRules, type PushPolicies } from "./modules/push-policies.js";
import { createModuleReads, type ModuleReads } from "./modules/reads.js";
import { createModuleSettings, type ModuleSettings } from "./modules/settings.js";
import type { Quotas } from "./quotas.js";

export type { ModuleFile } from "./modules/files.js";
export type { PushInput, UploadContent } from "./modules/push.js";
export type { PushPolicyChange } from "./modules/push-policies.js";

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
  /** Where every change is recorded (docs/audit.md). */
  audit?: AuditTrail;
  /** Per-owner quotas of modules and commits (docs/quotas.md). */
  quotas?: Quotas;
  /** Deletion rules (docs/lifecycle.md): when a deleted name may be taken again, when a module may not go. */
  lifecycle?: {
    quarantine: NameQuarantine;
    refuseDeleteIfServedWithinDays: number;
    servedDays?: Pick<ServedDays, "flush"> | undefined;
  };
  /** Where pushes write their events (docs/webhooks.md). */
  events?: Events;
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
    ...(o.audit ? { audit: o.audit } : {}),
    ...(o.quotas ? { quotas: o.quotas } : {}),
    quarantine: o.lifecycle?.quarantine,
    ...(o.events ? { events: o.events } : {}),
  });
  return {
    ...reads,
    ...digests,
    ...push,
    ...createModuleLabels({ meta, access, reads, ...(o.audit ? { audit: o.audit } : {}) }),
    ...createPushPolicies({ meta, access, reads, ...(o.audit ? { audit: o.audit } : {}) }),
    ...createModuleSettings({
      meta,
      access,
      reads,
      defaultVisibility: o.defaultVisibility,
      ...(o.audit ? { audit: o.audit } : {}),
      ...(o.quotas ? { quotas: o.quotas } : {}),
      quarantine: o.lifecycle?.quarantine,
      refuseDeleteIfServedWithinDays: o.lifecycle?.refuseDeleteIfServedWithinDays,
      servedDays: o.lifecycle?.servedDays,
    }),
  };
}
