// One commit's preparation, shared by both pushes (ours and buf's Upload): authorize, compile and check the push
// policy, write the blobs; then, in the push's transaction, insert the commit and its audit event.
import { randomBytes } from "node:crypto";
import { b5DigestYielding, reachedDeps } from "../../compile/b5-digest.js";
import { fileDigests, manifestDigestOf } from "../../compile/module-files.js";
import { Code, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import type { B5, CommitDep, CommitFile, Module, User, Visibility } from "../../core/types.js";
import { createTarGz } from "../../packaging/tar.js";
import { putContent } from "../../storage/blob/content.js";
import type { InsertCommitResult, NewCommit } from "../../storage/meta/metadata-store.js";
import type { Principal } from "../auth.js";
import { keepNamesForever } from "../lifecycle/quarantine.js";
import { type ModuleFile, missingModule, protoFiles } from "./files.js";
import type { ModulePushOptions, PushWriteStore } from "./push.js";

/** A dependency of a commit being prepared: stored already, or prepared earlier in the same batch. */
export interface PreparedDep extends CommitDep {
  /** Its .proto files, for compiling and for following imports. */
  files: ModuleFile[];
  /** Its b5 digest (hex). */
  b5: string;
  /** The commits it depends on, for ordering. */
  after: string[];
}

export interface PreparedCommit {
  input: NewCommit;
  visibility: Visibility;
  moreLabels: string[];
  warnings: string[];
  protoFiles: ModuleFile[];
}

/** One commit to prepare: where it goes, who pushes it and what it holds. */
export interface CommitPlan {
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

/**
 * Write permission first, from the owner alone: a caller who may not push under the owner gets the same refusal
 * for a hidden module and a missing one. Writers read every module of the owner, so the lookup hides nothing.
 */
export async function authorizePush(o: ModulePushOptions, principal: Principal, name: FullName) {
  const user = await o.access.requireWrite(principal, name.owner, "push to modules", name.name);
  let existing = await o.meta.getModule(name.owner, name.name);
  if (existing) {
    await o.access.checkRead(principal, existing, missingModule(name));
    if (existing.deletedAt !== undefined) {
      // Refused while the name is quarantined; after that the push creates the module anew.
      await (o.quarantine ?? keepNamesForever).reclaim("module", existing);
      existing = undefined;
    }
  }
  return { user, existing };
}

/**
 * Compiles the files, checks the push policy and writes the blobs of one commit; the metadata is written by
 * insertPrepared, so several commits can be prepared first and inserted in one transaction. Both pushes go
 * through here: ours from a module directory and buf's Upload.
 */
export async function prepareCommit(
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

/** A stored commit as a dependency of a commit being prepared. */
export async function preparedDep(o: ModulePushOptions, dep: CommitDep): Promise<PreparedDep> {
  const commit = await o.meta.getCommit(dep.commitId);
  if (!commit) throw new RegistryError(Code.Internal, `dependency commit ${dep.commitId} is missing`);
  const b5 = await o.digests.b5Of(commit);
  return { ...dep, files: protoFiles(await o.reads.readFiles(commit)), b5: b5.digest, after: b5.deps };
}

/** One audit event per stored push: a new commit, or a label moved to an existing identical one. */
export async function auditPush(
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
    await o.audit.appendIn({ appendAudit: tx.appendAudit }, principal, {
      action: created ? "commit.push" : "label.move",
      target,
      owner: commit.owner,
      after,
    });
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

export async function insertPrepared(
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
