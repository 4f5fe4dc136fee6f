// buf's Upload: several modules' contents at once, each a commit of a module that exists already, its
// dependencies among the named commits and the contents before it. All are prepared before any is stored.
import { directDeps, reachedDeps } from "../../compile/b5-digest.js";
import { validateModuleFiles } from "../../compile/module-files.js";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { checkLabel } from "../../core/names.js";
import type { Commit, Module, User } from "../../core/types.js";
import type { InsertCommitResult } from "../../storage/meta/metadata-store.js";
import { type Principal, requireUser } from "../auth.js";
import { dependencyOrder } from "./dependencies.js";
import { missingModule, refuseDeleted, toDep } from "./files.js";
import {
  auditPush,
  authorizePush,
  insertPrepared,
  type PreparedCommit,
  type PreparedDep,
  prepareCommit,
  preparedDep,
} from "./prepare-commit.js";
import type { ModulePushOptions, UploadContent } from "./push.js";

export async function upload(
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
