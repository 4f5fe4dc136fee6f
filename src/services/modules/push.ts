// Pushing: ours from a module directory here, buf's Upload in upload.ts, both through prepare-commit.ts.
// Validate → authorize → resolve dependencies → compile and check the push policy → write blobs → insert the
// commits in one transaction.
import type { Compiler } from "../../compile/buf-compiler.js";
import { fileDigests, manifestDigestOf, validateModuleFiles } from "../../compile/module-files.js";
import { checkLabel, type FullName, parseFullName } from "../../core/names.js";
import type { Commit, CommitDep, Module, Visibility } from "../../core/types.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import type { AuditStore, ModuleStore, WebhookStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import { type Principal, requireUser } from "../auth.js";
import type { Events } from "../events.js";
import type { NameQuarantine } from "../lifecycle/quarantine.js";
import type { Quotas } from "../quotas.js";
import type { DependencyPinning } from "./dependencies.js";
import type { ModuleDigests } from "./digests.js";
import type { ModuleFile } from "./files.js";
import { auditPush, authorizePush, insertPrepared, prepareCommit, preparedDep } from "./prepare-commit.js";
import { pushConfig, resolveModuleName } from "./push-config.js";
import type { PushPolicyRules } from "./push-policies.js";
import type { ModuleReads } from "./reads.js";
import { upload } from "./upload.js";

export interface PushInput {
  /** OWNER/NAME; read from buf.yaml when absent. */
  module?: string;
  files: { path: string; content: Uint8Array }[];
  label?: string;
  /** Used when the push creates the module; an existing module keeps its visibility. */
  visibility?: Visibility;
  /** Store the commit despite breaking changes the policy rejects (the module's owners only). */
  allowBreaking?: boolean;
}

/** One module's content in buf's Upload. */
export interface UploadContent {
  module: FullName;
  files: ModuleFile[];
  labels: string[];
}

/** The commit a push landed on, whether it is new, and the push policy's warnings. */
export interface PushResult {
  commit: Commit;
  created: boolean;
  warnings: string[];
}

export interface ModulePush {
  push(principal: Principal, input: PushInput): Promise<PushResult>;
  /**
   * buf's push: each content is a module that exists already, its files without buf.yaml, its dependencies
   * found among `depCommitIds` and the contents before it by what its files import. No labels means the
   * module's default label. Contents are stored in order, each as one commit.
   */
  upload(
    principal: Principal,
    contents: readonly UploadContent[],
    depCommitIds: readonly string[],
  ): Promise<Commit[]>;
}

/** What a push writes inside its transaction. */
/** The audit log's append is optional so that fakes need not have it; the real store always does. */
export type PushWriteStore = Pick<ModuleStore, "insertCommit" | "setLabel"> &
  Partial<Pick<AuditStore, "appendAudit">> &
  Partial<Pick<WebhookStore, "enqueueWebhookEvent">>;

/** The lookups a push makes, and the transaction its writes share. */
export type PushStore = Pick<
  ModuleStore,
  | "getModule"
  | "getModuleById"
  | "getCommit"
  | "getLabel"
  | "listCommitDeps"
  | "listCommits"
  | "deleteEmptyModule"
> & {
  transaction<T>(fn: (tx: PushWriteStore) => Promise<T>): Promise<T>;
};

export interface ModulePushOptions {
  meta: PushStore;
  blobs: BlobStore;
  compiler: Compiler;
  access: AccessPolicy;
  reads: Pick<ModuleReads, "readFiles">;
  digests: Pick<ModuleDigests, "b5Of">;
  pinning: DependencyPinning;
  policies: PushPolicyRules;
  limits: { maxFiles: number; maxFileBytes: number };
  /** Visibility of modules created without one (config defaults.visibility). */
  defaultVisibility: Visibility;
  /**
   * Called with each commit a push created (ours or buf's), after it is stored; must not throw or wait (the push
   * answers at once). Pre-generation starts here.
   */
  onCommitted?: ((principal: Principal, commit: Commit) => void) | undefined;
  /** Each stored commit (or label moved to an existing one) is recorded in the push's own transaction. */
  audit?: Pick<AuditTrail, "appendIn">;
  /** Per-owner quotas (services/quotas.ts): a new module and each new commit, checked before compiling. */
  quotas?: Pick<Quotas, "checkNewModule" | "checkNewCommits">;
  /** Whether a deleted module's name may be pushed to again (default: never). */
  quarantine?: NameQuarantine | undefined;
  /** Each stored commit (or label moved) is an event (docs/webhooks.md), written in the push's own transaction. */
  events?: Events;
}

export function createModulePush(o: ModulePushOptions): ModulePush {
  return {
    push: (principal, input) => push(o, principal, input),
    upload: (principal, contents, depCommitIds) => upload(o, principal, contents, depCommitIds),
  };
}

async function push(o: ModulePushOptions, principal: Principal, input: PushInput): Promise<PushResult> {
  // Who may push is settled before any pushed byte is parsed; only a name from buf.yaml waits for it.
  requireUser(principal, "pushing");
  if (input.module) await authorizePush(o, principal, parseFullName("module", input.module));
  validateModuleFiles(input.files, o.limits);
  const config = pushConfig(input);
  const name = resolveModuleName(input.module, config.name, config.version);
  const { user, existing } = await authorizePush(o, principal, name);
  const label = checkLabel(input.label || "main");
  const visibility = existing?.visibility ?? input.visibility ?? o.defaultVisibility;

  const siblings = await o.pinning.importedSiblings(principal, config.workspace, config.deps, input.files);
  const deps = await o.pinning.resolveDeps(principal, name, [...config.deps, ...siblings], config.pins);
  // Re-pushing what the label already points at (a CI job without changes) answers without compiling.
  const head = existing && (await unchangedHead(o, existing, label, input.files, deps));
  if (head) return { commit: head, created: false, warnings: [] };
  if (!existing) await o.quotas?.checkNewModule(name.owner);
  await o.quotas?.checkNewCommits(name.owner, 1);
  const prepared = await prepareCommit(o, principal, {
    name,
    user,
    existing,
    visibility,
    labels: [label],
    files: input.files,
    deps: await Promise.all(deps.map((d) => preparedDep(o, d))),
    allowBreaking: input.allowBreaking === true,
    // Our CLI's flags: this push creates the module in the same transaction as its commit, or it exists already.
    privateFix: existing
      ? `make the module private first (protodepot module update ${name.owner}/${name.name} --visibility private)`
      : "push with --visibility private",
  });
  const stored = await o.meta.transaction(async (tx) => {
    const result = await insertPrepared(tx, prepared, new Map());
    await auditPush(o, tx, principal, prepared, result);
    return result;
  });
  if (stored.created) o.onCommitted?.(principal, stored.commit);
  return { ...stored, warnings: prepared.warnings };
}

/**
 * The label's head when it has exactly these files and these pinned dependencies: the commit the store would
 * answer with anyway (it never stores the same content twice), found before the compiler runs.
 */
async function unchangedHead(
  o: ModulePushOptions,

  mod: Module,
  label: string,
  files: readonly ModuleFile[],
  deps: readonly CommitDep[],
): Promise<Commit | undefined> {
  const at = await o.meta.getLabel(mod.id, label);
  const head = at && (await o.meta.getCommit(at.commitId));
  if (!head || head.digest !== manifestDigestOf(await fileDigests(files))) return undefined;
  const pinned = await o.meta.listCommitDeps(head.id);
  const same = pinned.length === deps.length && pinned.every((d, i) => d.commitId === deps[i]?.commitId);
  return same ? head : undefined;
}
