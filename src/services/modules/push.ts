// Pushing: ours from a module directory and buf's Upload. Validate → authorize → resolve dependencies → compile
// and check the push policy → write blobs → insert the commits in one transaction.
import { randomBytes } from "node:crypto";
import { b5DigestYielding, directDeps, reachedDeps } from "../../compile/b5-digest.js";
import type { Compiler } from "../../compile/buf-compiler.js";
import { fileDigests, manifestDigestOf, validateModuleFiles } from "../../compile/module-files.js";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { checkLabel, type FullName, parseFullName } from "../../core/names.js";
import type { B5, Commit, CommitDep, CommitFile, Module, User, Visibility } from "../../core/types.js";
import { createTarGz } from "../../packaging/tar.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { putContent } from "../../storage/blob/content.js";
import type {
  AuditStore,
  InsertCommitResult,
  ModuleStore,
  NewCommit,
  WebhookStore,
} from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import { type Principal, requireUser } from "../auth.js";
import type { Events } from "../events.js";
import { type DependencyPinning, dependencyOrder } from "./dependencies.js";
import type { ModuleDigests } from "./digests.js";
import { type ModuleFile, missingModule, protoFiles, refuseDeleted, toDep } from "./files.js";
import { pushConfig, resolveModuleName } from "./push-config.js";
import type { PushPolicyRules } from "./push-policies.js";
import type { ModuleReads } from "./reads.js";

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
  audit?: Pick<AuditTrail, "event">;
  /** Each stored commit (or label moved) is an event (docs/webhooks.md), written in the push's own transaction. */
  events?: Events;
}

/** A dependency of a commit being prepared: stored already, or prepared earlier in the same batch. */
interface PreparedDep extends CommitDep {
  /** Its .proto files, for compiling and for following imports. */
  files: ModuleFile[];
  /** Its b5 digest (hex). */
  b5: string;
  /** The commits it depends on, for ordering. */
  after: string[];
}

interface PreparedCommit {
  input: NewCommit;
  visibility: Visibility;
  moreLabels: string[];
  warnings: string[];
  protoFiles: ModuleFile[];
}

/** One commit to prepare: where it goes, who pushes it and what it holds. */
interface CommitPlan {
  name: FullName;
  user: User;
  existing: Module | undefined;
  visibility: Visibility;
  labels: string[];
  files: ModuleFile[];
  deps: PreparedDep[];
  allowBreaking: boolean;
  /** How the pusher's client makes the module private, for the refusal of a public one with private deps. */
  privateFix: string;
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

async function upload(
  o: ModulePushOptions,
  principal: Principal,
  contents: readonly UploadContent[],
  depCommitIds: readonly string[],
): Promise<Commit[]> {
  requireUser(principal, "pushing");
  const mods: UploadTarget[] = [];
  for (const content of contents) {
    const { user, existing } = await authorizePush(o, principal, content.module);
    if (!existing) throw missingModule(content.module)();
    const empty = (await o.meta.listCommits(existing.id, { limit: 1 })).length === 0;
    mods.push({ user, mod: existing, empty });
  }
  try {
    const candidates = await uploadCandidates(o, principal, depCommitIds);
    // Every content is compiled and checked before any is stored; then all are stored in one transaction.
    const prepared: PreparedCommit[] = [];
    for (const [i, content] of contents.entries()) {
      const entry = mods[i];
      if (entry) prepared.push(await prepareUploaded(o, principal, content, entry, candidates));
    }
    const stored = await o.meta.transaction(async (tx) => {
      const ids = new Map<string, string>();
      const results: InsertCommitResult[] = [];
      for (const p of prepared) {
        const result = await insertPrepared(tx, p, ids);
        await auditPush(o, tx, principal, p, result);
        results.push(result);
      }
      return results;
    });
    for (const s of stored) if (s.created) o.onCommitted?.(principal, s.commit);
    return stored.map((s) => s.commit);
  } catch (err) {
    // `buf push --create` creates the module (CreateModules) before it uploads: a refused first upload removes the
    // still-empty module again, so a refused push creates nothing, as ours does (module and commit in one
    // transaction). deleteEmptyModule keeps a module that a concurrent push has given a commit meanwhile. A failure
    // that is no refusal (the server's own: disk, time, an internal error) keeps it: the same push may succeed.
    if (isRefusal(err)) for (const m of mods) if (m.empty) await o.meta.deleteEmptyModule(m.mod.id);
    throw err;
  }
}

const refusals: readonly Code[] = [
  Code.InvalidArgument,
  Code.NotFound,
  Code.PermissionDenied,
  Code.FailedPrecondition,
  Code.Unprocessable,
];

/** A push refused for what it holds or where it goes, as opposed to the server failing to store it. */
const isRefusal = (err: unknown): boolean => isRegistryError(err) && refusals.includes(err.code);

/** A module an Upload writes to, and whether it had no commits before (then buf may have just created it). */
interface UploadTarget {
  user: User;
  mod: Module;
  empty: boolean;
}

/**
 * Write permission first, from the owner alone: a caller who may not push under the owner gets the same refusal
 * for a hidden module and a missing one. Writers read every module of the owner, so the lookup hides nothing.
 */
async function authorizePush(o: ModulePushOptions, principal: Principal, name: FullName) {
  const user = await o.access.requireWrite(principal, name.owner, "push to modules", name.name);
  const existing = await o.meta.getModule(name.owner, name.name);
  if (existing) {
    await o.access.checkRead(principal, existing, missingModule(name));
    refuseDeleted(existing);
  }
  return { user, existing };
}

/**
 * Compiles the files, checks the push policy and writes the blobs of one commit; the metadata is written by
 * insertPrepared, so several commits can be prepared first and inserted in one transaction. Both pushes go
 * through here: ours from a module directory and buf's Upload.
 */
async function prepareCommit(
  o: ModulePushOptions,
  principal: Principal,
  p: CommitPlan,
): Promise<PreparedCommit> {
  const { name, deps, files: pushed } = p;
  const [label, ...moreLabels] = p.labels;
  if (label === undefined) throw new RegistryError(Code.Internal, "a commit needs a label");
  if (p.visibility === "public") await o.pinning.refusePrivateDeps(name, deps, p.privateFix);
  const reached = reachedDeps(
    pushed,
    deps.map((d) => ({ key: d, files: d.files })),
  );
  const b5: B5 = {
    // Hashed in slices that yield to the event loop: a large push must not hold it (docs/architecture.md).
    digest: (
      await b5DigestYielding(
        pushed,
        reached.map((d) => Buffer.from(d.b5, "hex")),
      )
    ).toString("hex"),
    deps: reached.map((d) => d.commitId),
  };
  // Packing the sources does not depend on the compiler's answer, so it overlaps the compile.
  const [{ image }, sourcesTar] = await Promise.all([
    o.compiler.compile({
      module: { files: protoFiles(pushed) },
      deps: deps.map((d) => ({ name: `${d.owner}/${d.module}`, files: d.files })),
      pusher: p.user.name,
    }),
    createTarGz(pushed),
  ]);
  const warnings = p.existing
    ? await o.policies.findings({
        principal,
        mod: p.existing,
        label,
        image,
        files: pushed,
        allowBreaking: p.allowBreaking,
      })
    : [];

  // Blobs first, metadata last: a crash in between leaves only unreferenced blobs.
  const [sources, imageBlob] = await Promise.all([
    putContent(o.blobs, sourcesTar),
    putContent(o.blobs, image),
  ]);
  const files: CommitFile[] = (await fileDigests(pushed)).sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  return {
    input: {
      owner: name.owner,
      module: name.name,
      id: randomBytes(16).toString("hex"),
      digest: manifestDigestOf(files),
      b5,
      sourcesBlob: sources.key,
      imageBlob: imageBlob.key,
      createdBy: p.user.name,
      files,
      deps: deps.map((d) => ({ commitId: d.commitId, direct: d.direct })),
      label,
    },
    visibility: p.visibility,
    moreLabels,
    warnings,
    protoFiles: protoFiles(pushed),
  };
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

/** A stored commit as a dependency of a commit being prepared. */
async function preparedDep(o: ModulePushOptions, dep: CommitDep): Promise<PreparedDep> {
  const commit = await o.meta.getCommit(dep.commitId);
  if (!commit) throw new RegistryError(Code.Internal, `dependency commit ${dep.commitId} is missing`);
  const b5 = await o.digests.b5Of(commit);
  return { ...dep, files: protoFiles(await o.reads.readFiles(commit)), b5: b5.digest, after: b5.deps };
}

/** The commits buf's Upload names as dependency candidates, each readable by the caller. */
async function uploadCandidates(
  o: ModulePushOptions,

  principal: Principal,
  depCommitIds: readonly string[],
): Promise<PreparedDep[]> {
  const candidates: PreparedDep[] = [];
  for (const id of new Set(depCommitIds)) {
    const commit = await o.meta.getCommit(id);
    const mod = commit && (await o.meta.getModuleById(commit.moduleId));
    if (!commit || !mod || !(await o.access.canRead(principal, mod))) {
      throw new RegistryError(Code.NotFound, `dependency commit ${id} does not exist`, { ref: id });
    }
    refuseDeleted(mod);
    candidates.push(await preparedDep(o, toDep(commit, false)));
  }
  return candidates;
}

/**
 * One content of an Upload, prepared against the candidates (stored ones and the contents before it), which it
 * then joins for the contents after it.
 */
async function prepareUploaded(
  o: ModulePushOptions,

  principal: Principal,
  content: UploadContent,
  entry: UploadTarget,
  candidates: PreparedDep[],
): Promise<PreparedCommit> {
  validateModuleFiles(content.files, o.limits);
  const asCandidates = candidates.map((d) => ({ key: d, files: d.files }));
  const reached = new Set(reachedDeps(content.files, asCandidates));
  const direct = new Set(directDeps(content.files, asCandidates));
  const deps = dependencyOrder(candidates.filter((d) => reached.has(d))).map((d) => ({
    ...d,
    direct: direct.has(d),
  }));
  const commit = await prepareCommit(o, principal, {
    name: content.module,
    user: entry.user,
    existing: entry.mod,
    visibility: entry.mod.visibility,
    labels: content.labels.length > 0 ? content.labels.map(checkLabel) : [entry.mod.defaultLabel],
    files: content.files,
    deps,
    allowBreaking: false,
    // buf's flags: a first push comes right after `buf push --create` created the module (and is undone if refused).
    privateFix: entry.empty
      ? "push with --create-visibility private"
      : `make the module private first (buf registry module update ${content.module.owner}/${content.module.name} --visibility private)`,
  });
  candidates.push({
    commitId: commit.input.id,
    owner: content.module.owner,
    module: content.module.name,
    seq: 0,
    direct: false,
    files: commit.protoFiles,
    b5: commit.input.b5?.digest ?? "",
    after: deps.map((d) => d.commitId),
  });
  return commit;
}

/**
 * Inserts a prepared commit inside a transaction. `ids` maps the fresh ids of commits prepared in the same
 * batch to the commits they became (a new one, or an existing one with the same content), so a commit that
 * depends on an earlier one of the batch points at the stored one.
 */
/** One audit event per stored push: a new commit, or a label moved to an existing identical one. */
async function auditPush(
  o: ModulePushOptions,
  tx: PushWriteStore,
  principal: Principal,
  prepared: PreparedCommit,
  { commit, created }: InsertCommitResult,
): Promise<void> {
  const labels = [prepared.input.label, ...prepared.moreLabels];
  const target = `${commit.owner}/${commit.module}`;
  const after = { commit: commit.id, seq: commit.seq, labels };
  if (o.audit && tx.appendAudit) {
    await tx.appendAudit(
      o.audit.event(principal, {
        action: created ? "commit.push" : "label.move",
        target,
        owner: commit.owner,
        after,
      }),
    );
  }
  if (o.events && tx.enqueueWebhookEvent) {
    const { enqueueWebhookEvent } = tx;
    await o.events.emit(
      created ? "commit.pushed" : "label.moved",
      {
        owner: commit.owner,
        ...(principal.user ? { actor: principal.user.name } : {}),
        target,
        data: { ...after, digest: commit.digest },
      },
      { enqueueWebhookEvent },
    );
  }
}

async function insertPrepared(
  tx: PushWriteStore,
  prepared: PreparedCommit,
  ids: Map<string, string>,
): Promise<InsertCommitResult> {
  const real = (id: string) => ids.get(id) ?? id;
  const { input } = prepared;
  const b5 = input.b5 && { digest: input.b5.digest, deps: input.b5.deps.map(real) };
  const stored = await tx.insertCommit(
    {
      ...input,
      ...(b5 ? { b5 } : {}),
      deps: input.deps.map((d) => ({ ...d, commitId: real(d.commitId) })),
    },
    prepared.visibility,
  );
  ids.set(input.id, stored.commit.id);
  for (const more of prepared.moreLabels)
    await tx.setLabel(stored.commit.moduleId, more, stored.commit.id, "upsert");
  return stored;
}
