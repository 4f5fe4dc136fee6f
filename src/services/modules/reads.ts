// Reading modules and commits back, as the caller may see them: references resolved, files, images, sources.
import type { Readable } from "node:stream";
import { Code, RegistryError } from "../../core/errors.js";
import { type FullName, isCommitId } from "../../core/names.js";
import type { Commit, CommitDep, CommitFile, Module, Owner } from "../../core/types.js";
import { readTarGz, type TarEntry } from "../../packaging/tar.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { readContent } from "../../storage/blob/content.js";
import { isCorruptBlobError } from "../../storage/blob/verify.js";
import type { ModuleStore, OwnerStore, Page } from "../../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "../access.js";
import type { Principal } from "../auth.js";
import { missingModule, refuseDeleted } from "./files.js";

/** A unique prefix of a commit id that a reference may use, as git allows abbreviated hashes. */
const shortCommitId = /^[0-9a-f]{8,31}$/;

export interface ModuleReads {
  /** The module if the caller may read it; hidden modules fail exactly as missing ones. */
  getModule(principal: Principal, name: FullName): Promise<Module>;
  /** A label or commit id of the module; an empty ref means the module's default label. */
  resolveRef(principal: Principal, name: FullName, ref: string | undefined): Promise<Commit>;
  /** resolveRef in a module the caller may already read. */
  resolveIn(mod: Module, ref: string | undefined): Promise<Commit>;
  /** The commit's pinned dependencies, each module readable by the caller (generating over them needs that). */
  readableDeps(principal: Principal, commit: Commit): Promise<CommitDep[]>;
  /** The pushed files of a commit, as stored. */
  readFiles(commit: Commit): Promise<TarEntry[]>;
  /** A module by its id, if the caller may read it; hidden ones fail as missing. */
  moduleById(principal: Principal, id: string): Promise<Module>;
  /** A commit by its id, if the caller may read its module; hidden ones fail as missing. */
  commitById(principal: Principal, id: string): Promise<Commit>;
  /** A user or organization by name (owner names are public, as on every registry). */
  getOwner(principal: Principal, name: string): Promise<Owner>;
  /** The modules the caller may read, of one owner or all. */
  listModules(principal: Principal, owner?: string): Promise<Module[]>;
  listCommits(principal: Principal, name: FullName, page: Page): Promise<Commit[]>;
  commitDeps(commit: Commit): Promise<CommitDep[]>;
  /** The commit's compiled image: a FileDescriptorSet of its files and all their imports, with source info. */
  readImage(commit: Commit): Promise<Uint8Array>;
  /** The modules whose commits depend on this one that the caller may read. */
  listDependents(principal: Principal, name: FullName): Promise<Module[]>;
  listCommitFiles(commit: Commit): Promise<CommitFile[]>;
  openSources(commit: Commit): Promise<Readable>;
}

/** The lookups reads make. */
export type ModuleReadStore = Pick<
  ModuleStore,
  | "getModule"
  | "getModuleById"
  | "getCommit"
  | "getLabel"
  | "findCommitsByIdPrefix"
  | "listLabels"
  | "listModules"
  | "listCommits"
  | "listCommitDeps"
  | "listCommitFiles"
  | "listDependents"
> &
  Pick<OwnerStore, "getOwner">;

/** The lookups resolving a reference makes. */
type RefStore = Pick<ModuleStore, "getCommit" | "getLabel" | "findCommitsByIdPrefix" | "listLabels">;

export function createModuleReads({
  meta,
  blobs,
  access,
}: {
  meta: ModuleReadStore;
  blobs: BlobStore;
  access: AccessPolicy;
}): ModuleReads {
  async function getModule(principal: Principal, name: FullName): Promise<Module> {
    return refuseDeleted(
      await access.readOwned(principal, await meta.getModule(name.owner, name.name), missingModule(name)),
    );
  }

  async function readFiles(commit: Commit): Promise<TarEntry[]> {
    return readTarGz(await readContent(blobs, commit.sourcesBlob));
  }

  const resolveIn = (mod: Module, ref: string | undefined) => resolveInModule(meta, mod, ref);

  return {
    getModule,
    resolveIn,
    readFiles,
    async resolveRef(principal, name, ref) {
      return resolveIn(await getModule(principal, name), ref);
    },
    async readableDeps(principal, commit) {
      const deps = await meta.listCommitDeps(commit.id);
      await Promise.all(deps.map((d) => getModule(principal, { owner: d.owner, name: d.module })));
      return deps;
    },
    async moduleById(principal, id) {
      const missing = () => new RegistryError(Code.NotFound, `module with id ${id} does not exist`);
      return refuseDeleted(await access.readOwned(principal, await meta.getModuleById(id), missing));
    },
    async commitById(principal, id) {
      const commit = await meta.getCommit(id);
      const mod = commit && (await meta.getModuleById(commit.moduleId));
      const missing = () => new RegistryError(Code.NotFound, `commit ${id} does not exist`, { ref: id });
      const found = commit && mod && { owner: mod.owner, visibility: mod.visibility, commit };
      const readable = await access.readOwned(principal, found || undefined, missing);
      if (mod) refuseDeleted(mod);
      return readable.commit;
    },
    async getOwner(principal, name) {
      access.checkCanList(principal);
      const owner = await meta.getOwner(name);
      if (!owner) throw new RegistryError(Code.NotFound, `owner ${name} does not exist`, { owner: name });
      return owner;
    },
    async listModules(principal, owner) {
      access.checkCanList(principal);
      const modules = await meta.listModules(owner);
      // An empty list would read as "this owner has no modules" when the name is mistyped. (Admins may push
      // to a name that is no user or organization, such as demo/, so owning modules makes an owner too.)
      if (owner !== undefined && modules.length === 0 && !(await meta.getOwner(owner))) {
        throw new RegistryError(Code.NotFound, `owner ${owner} does not exist`, { owner });
      }
      return readable(access, principal, modules);
    },
    async listCommits(principal, name, page) {
      const mod = await getModule(principal, name);
      return meta.listCommits(mod.id, page);
    },
    commitDeps: (commit) => meta.listCommitDeps(commit.id),
    readImage: (commit) => readContent(blobs, commit.imageBlob),
    async listDependents(principal, name) {
      const mod = await getModule(principal, name);
      return readable(access, principal, await meta.listDependents(mod.id));
    },
    listCommitFiles: (commit) => meta.listCommitFiles(commit.id),
    openSources: (commit) => openSources(blobs, commit),
  };
}

/** A label, a commit id or a unique prefix of one, in a module the caller may read. */
async function resolveInModule(meta: RefStore, mod: Module, ref: string | undefined): Promise<Commit> {
  const wanted = ref || mod.defaultLabel;
  const fields = { owner: mod.owner, module: mod.name, ref: wanted };
  if (isCommitId(wanted)) {
    const commit = await meta.getCommit(wanted);
    if (commit?.moduleId === mod.id) return commit;
    throw new RegistryError(Code.NotFound, `module ${mod.owner}/${mod.name} has no commit ${wanted}`, fields);
  }
  const label = await meta.getLabel(mod.id, wanted);
  if (!label) return commitByPrefix(meta, mod, wanted);
  const commit = await meta.getCommit(label.commitId);
  if (!commit) throw new RegistryError(Code.Internal, `label ${wanted} points at a missing commit`, fields);
  return commit;
}

/** A reference that names no label: a unique commit id prefix, else an error listing the labels. */
async function commitByPrefix(meta: RefStore, mod: Module, wanted: string): Promise<Commit> {
  const fields = { owner: mod.owner, module: mod.name, ref: wanted };
  if (shortCommitId.test(wanted)) {
    const found = await meta.findCommitsByIdPrefix(mod.id, wanted, 2);
    if (found.length === 1 && found[0]) return found[0];
    if (found.length > 1) {
      throw new RegistryError(
        Code.InvalidArgument,
        `commit id prefix ${wanted} of module ${mod.owner}/${mod.name} is ambiguous (${found.map((c) => c.id).join(", ")}, …): give more digits`,
        fields,
      );
    }
  }
  const labels = (await meta.listLabels(mod.id)).map((l) => l.name);
  throw new RegistryError(
    Code.NotFound,
    `module ${mod.owner}/${mod.name} has no label or commit "${wanted}" (labels: ${labels.join(", ") || "none"}; a reference is a label, or a commit id: 32 hex digits or a unique prefix of 8 or more)`,
    fields,
  );
}

/** The commit's sources archive as stored, checked against its digest. */
async function openSources(blobs: BlobStore, commit: Commit): Promise<Readable> {
  const stream = await blobs.get(commit.sourcesBlob).catch((err: unknown) => {
    // A small archive is checked before its first byte (a larger one breaks off at its end instead).
    if (!isCorruptBlobError(err)) throw err;
    throw new RegistryError(
      Code.Internal,
      `the sources of ${commit.owner}/${commit.module} commit ${commit.id} are corrupt in the blob store (${commit.sourcesBlob}): restore the blob from a backup (protodepot fsck lists what is damaged)`,
      { owner: commit.owner, module: commit.module, ref: commit.id, reason: "COMMIT_BLOB_DAMAGED" },
      { cause: err },
    );
  });
  if (!stream) throw new RegistryError(Code.Internal, `sources of commit ${commit.id} are missing`);
  return stream;
}
