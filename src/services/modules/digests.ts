// buf's digests of a commit: b5 (recorded with the commit, computed late for commits stored before b5) and b4
// (buf.yaml v1 modules, kept in memory).

import { b4Digest, b5Digest, type DepCandidate, reachedDeps } from "../../compile/b5-digest.js";
import { createCache } from "../../core/cache.js";
import { Code, RegistryError } from "../../core/errors.js";
import type { B5, Commit } from "../../core/types.js";
import type { TarEntry } from "../../packaging/tar.js";
import type { ModuleStore } from "../../storage/meta/metadata-store.js";
import { type ModuleFile, protoFiles } from "./files.js";

export interface ModuleDigests {
  /** The commit's b5 digest; computed and recorded the first time for commits stored before b5 existed. */
  b5Of(commit: Commit): Promise<B5>;
  /** The commit's b4 digest (buf.yaml v1 modules), from `files` when the caller has read them already. */
  b4Of(commit: Commit, files?: readonly TarEntry[]): Promise<Buffer>;
}

export function createModuleDigests({
  meta,
  readFiles,
}: {
  meta: Pick<ModuleStore, "getCommit" | "listCommitDeps" | "setCommitB5">;
  readFiles: (commit: Commit) => Promise<TarEntry[]>;
}): ModuleDigests {
  /** b5 over the files and the digests of the candidate dependencies their imports reach. */
  async function b5Over(files: readonly ModuleFile[], candidates: DepCandidate<Commit>[]): Promise<B5> {
    const reached = reachedDeps(files, candidates);
    const digests = await Promise.all(reached.map(async (c) => Buffer.from((await b5Of(c)).digest, "hex")));
    return { digest: b5Digest(files, digests).toString("hex"), deps: reached.map((c) => c.id) };
  }

  async function b5Of(commit: Commit): Promise<B5> {
    if (commit.b5) return commit.b5;
    const deps = await meta.listCommitDeps(commit.id);
    const candidates = await Promise.all(
      deps.map(async (d) => {
        const dep = await meta.getCommit(d.commitId);
        if (!dep) throw new RegistryError(Code.Internal, `dependency commit ${d.commitId} is missing`);
        return { key: dep, files: protoFiles(await readFiles(dep)) };
      }),
    );
    const b5 = await b5Over(await readFiles(commit), candidates);
    await meta.setCommitB5(commit.id, b5);
    return b5;
  }

  // A commit's files never change, so neither does its b4 digest: computed once per process, not per buf request.
  const b4Digests = createCache<Buffer>({ bound: { maxEntries: 10_000 } });
  async function b4Of(commit: Commit, files?: readonly TarEntry[]): Promise<Buffer> {
    const kept = b4Digests.get(commit.id);
    if (kept) return kept;
    const digest = b4Digest(files ?? (await readFiles(commit)));
    b4Digests.set(commit.id, digest);
    return digest;
  }

  return { b5Of, b4Of };
}
