// Modules, commits and labels: push (validate → resolve deps → compile → store), and reading them back.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { LRUCache } from "lru-cache";
import {
  b4Digest,
  b5Digest,
  b5DigestYielding,
  type DepCandidate,
  directDeps,
  reachedDeps,
} from "../compile/b5-digest.js";
import type { SchemaChecker } from "../compile/buf-checks.js";
import type { Compiler } from "../compile/buf-compiler.js";
import { checkConfigSize, parseBufConfig } from "../compile/buf-config.js";
import { manifestDigest, validateModuleFiles } from "../compile/module-files.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkLabel, type FullName, isCommitId, parseFullName } from "../core/names.js";
import { protoImports } from "../core/proto-imports.js";
import { reclaimAfter } from "../core/reclaim.js";
import {
  type B5,
  type Commit,
  type CommitDep,
  type CommitFile,
  defaultPushPolicy,
  type Label,
  type Module,
  type Owner,
  type PushPolicy,
  type User,
  type Visibility,
} from "../core/types.js";
import { createTarGz, readTarGz, type TarEntry } from "../packaging/tar.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { putContent, readContent } from "../storage/blob/content.js";
import { sha256Hex } from "../storage/blob/paths.js";
import { isCorruptBlobError } from "../storage/blob/verify.js";
import type {
  InsertCommitResult,
  MetadataStore,
  MetadataStores,
  NewCommit,
} from "../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "./access.js";
import { type Principal, requireUser } from "./auth.js";

/** A unique prefix of a commit id that a reference may use, as git allows abbreviated hashes. */
const shortCommitId = /^[0-9a-f]{8,31}$/;

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

/** A change of push policy: the fields given replace the current ones. */
export type PushPolicyChange = Partial<PushPolicy>;

export interface ModuleFile {
  path: string;
  content: Uint8Array;
}

export interface ModuleServiceOptions {
  meta: MetadataStore;
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

export type ModuleService = ReturnType<typeof createModuleService>;

const missingModule = (name: FullName) => () =>
  new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`, {
    owner: name.owner,
    module: name.name,
  });

export function createModuleService({
  meta,
  blobs,
  compiler,
  checker,
  access,
  limits,
  defaultVisibility,
  onCommitted,
}: ModuleServiceOptions) {
  /** The module if the caller may read it; hidden modules fail exactly as missing ones. */
  async function getModule(principal: Principal, name: FullName): Promise<Module> {
    return access.readOwned(principal, await meta.getModule(name.owner, name.name), missingModule(name));
  }

  /** A label or commit id of the module; an empty ref means the module's default label. */
  async function resolveRef(principal: Principal, name: FullName, ref: string | undefined): Promise<Commit> {
    return resolveIn(await getModule(principal, name), ref);
  }

  async function resolveIn(mod: Module, ref: string | undefined): Promise<Commit> {
    const name = { owner: mod.owner, name: mod.name };
    const wanted = ref || mod.defaultLabel;
    const fields = { owner: name.owner, module: name.name, ref: wanted };
    if (isCommitId(wanted)) {
      const commit = await meta.getCommit(wanted);
      if (commit?.moduleId === mod.id) return commit;
      throw new RegistryError(
        Code.NotFound,
        `module ${name.owner}/${name.name} has no commit ${wanted}`,
        fields,
      );
    }
    const label = await meta.getLabel(mod.id, wanted);
    if (!label) {
      if (shortCommitId.test(wanted)) {
        const found = await meta.findCommitsByIdPrefix(mod.id, wanted, 2);
        if (found.length === 1 && found[0]) return found[0];
        if (found.length > 1) {
          throw new RegistryError(
            Code.InvalidArgument,
            `commit id prefix ${wanted} of module ${name.owner}/${name.name} is ambiguous (${found.map((c) => c.id).join(", ")}, …): give more digits`,
            fields,
          );
        }
      }
      const labels = (await meta.listLabels(mod.id)).map((l) => l.name);
      throw new RegistryError(
        Code.NotFound,
        `module ${name.owner}/${name.name} has no label or commit "${wanted}" (labels: ${labels.join(", ") || "none"}; a reference is a label, or a commit id: 32 hex digits or a unique prefix of 8 or more)`,
        fields,
      );
    }
    const commit = await meta.getCommit(label.commitId);
    if (!commit) throw new RegistryError(Code.Internal, `label ${wanted} points at a missing commit`, fields);
    return commit;
  }

  /** The pushed files of a commit, as stored. */
  async function readFiles(commit: Commit): Promise<TarEntry[]> {
    return readTarGz(await readContent(blobs, commit.sourcesBlob));
  }

  /**
   * Write permission first, from the owner alone: a caller who may not push under the owner gets the same refusal
   * for a hidden module and a missing one. Writers read every module of the owner, so the lookup hides nothing.
   */
  async function authorizePush(principal: Principal, name: FullName) {
    const user = await access.requireWrite(principal, name.owner, "push to modules");
    const existing = await meta.getModule(name.owner, name.name);
    if (existing) await access.checkRead(principal, existing, missingModule(name));
    return { user, existing };
  }

  /**
   * Runs the module's push policy for `label` over the new image: lint findings, and breaking changes against
   * the label's head. "reject" refuses the push with the findings as detail lines; "warn" returns them.
   */
  async function policyFindings(
    principal: Principal,
    mod: Module,
    label: string,
    image: Uint8Array,
    files: readonly ModuleFile[],
    allowBreaking: boolean,
  ): Promise<string[]> {
    const policy = await meta.getPushPolicy(mod.id, label);
    if (!policy) return [];
    const where = `${mod.owner}/${mod.name}${policy.label ? ` label ${policy.label}` : ""}`;
    const paths = protoFiles(files).map((f) => f.path);
    const warnings: string[] = [];
    const fields = { owner: mod.owner, module: mod.name };
    if (policy.lint !== "off") {
      const pusher = principal.user?.name;
      const found = await checker.lint({
        image,
        categories: policy.lintCategories,
        paths,
        ...(pusher ? { pusher } : {}),
      });
      if (found.length > 0 && policy.lint === "reject") {
        throw new RegistryError(
          Code.FailedPrecondition,
          `push refused: ${found.length} lint finding(s) in ${policy.lintCategories.join(", ")}, which the policy of ${where} rejects; fix them, or relax it with 'protodepot module update ${mod.owner}/${mod.name} --lint warn'`,
          { ...fields, details: found },
        );
      }
      warnings.push(...found.map((l) => `lint: ${l}`));
    }
    const head = policy.breaking === "off" ? undefined : await meta.getLabel(mod.id, label);
    const headCommit = head && (await meta.getCommit(head.commitId));
    if (headCommit) {
      const against = await readContent(blobs, headCommit.imageBlob);
      const pusher = principal.user?.name;
      const found = await checker.breaking({
        image,
        against,
        category: policy.breakingCategory,
        paths,
        ...(pusher ? { pusher } : {}),
      });
      if (found.length > 0 && policy.breaking === "reject") {
        if (!allowBreaking) {
          throw new RegistryError(
            Code.FailedPrecondition,
            `push refused: ${found.length} breaking change(s) in category ${policy.breakingCategory} against ${label} (seq ${headCommit.seq}), which the policy of ${where} rejects; keep the old fields, or an owner of ${mod.owner} may push with --allow-breaking`,
            { ...fields, details: found },
          );
        }
        await access.requireManage(principal, mod.owner, "override the breaking-change policy");
      }
      warnings.push(...found.map((l) => `breaking: ${l}`));
    }
    return warnings;
  }

  /**
   * The workspace siblings (other modules of the same v2 buf.yaml, already in this registry) whose files the
   * pushed files import: `buf build` resolves those imports inside the workspace, so they become dependencies
   * here. A sibling named in `deps` already, or not pushed yet, is left to resolveDeps.
   */
  async function importedSiblings(
    principal: Principal,
    workspace: readonly FullName[],
    declared: readonly FullName[],
    files: readonly ModuleFile[],
  ): Promise<FullName[]> {
    const candidates = workspace.filter(
      (w) => !declared.some((d) => d.owner === w.owner && d.name === w.name),
    );
    if (candidates.length === 0) return [];
    const imports = importsOf(files);
    const found: FullName[] = [];
    for (const sibling of candidates) {
      const mod = await meta.getModule(sibling.owner, sibling.name);
      if (!mod || !(await access.canRead(principal, mod))) continue;
      const head = await resolveIn(mod, "");
      const siblingFiles = await meta.listCommitFiles(head.id);
      if (siblingFiles.some((f) => imports.has(f.path))) found.push(sibling);
    }
    return found;
  }

  /**
   * Pins every dependency: direct ones from buf.lock, `:ref` or the default label; transitive ones as their
   * dependents pinned them (a direct pin wins). Deepest first, so the list is in dependency order.
   */
  async function resolveDeps(
    principal: Principal,
    self: FullName,
    deps: readonly (FullName & { ref?: string })[],
    pins: ReadonlyMap<string, string>,
  ): Promise<CommitDep[]> {
    const direct = new Map<string, Commit>();
    for (const dep of deps) {
      const key = `${dep.owner}/${dep.name}`;
      if (key === `${self.owner}/${self.name}`) {
        throw new RegistryError(Code.InvalidArgument, `module ${key} cannot depend on itself`);
      }
      const commit = await resolveRef(principal, dep, pins.get(key) ?? dep.ref).catch((err: unknown) => {
        // A missing module is the user's buf.yaml naming something not pushed here; a missing ref stays NotFound.
        if (isRegistryError(err, Code.NotFound) && err.fields.ref === undefined) {
          throw new RegistryError(
            Code.FailedPrecondition,
            `dependency ${key} does not exist in this registry: push it first, or fix buf.yaml deps`,
            { owner: dep.owner, module: dep.name },
          );
        }
        throw err;
      });
      direct.set(key, commit);
    }
    const ordered: CommitDep[] = [];
    const seen = new Set<string>();
    const add = (d: CommitDep) => {
      const key = `${d.owner}/${d.module}`;
      if (seen.has(key)) return;
      seen.add(key);
      ordered.push(d);
    };
    for (const [key, commit] of direct) {
      for (const transitive of await meta.listCommitDeps(commit.id)) {
        const tkey = `${transitive.owner}/${transitive.module}`;
        if (tkey === `${self.owner}/${self.name}`) {
          throw new RegistryError(Code.InvalidArgument, `dependency cycle: ${key} depends on ${tkey}`);
        }
        // A module named directly keeps its direct pin even when a dependency pinned another commit.
        const pinned = direct.get(tkey);
        add(pinned ? toDep(pinned, true) : { ...transitive, direct: false });
      }
      add(toDep(commit, true));
    }
    return ordered;
  }

  /** A public module never depends on a private one: refuse naming the private dependencies. */
  async function refusePrivateDeps(self: FullName, deps: readonly CommitDep[]): Promise<void> {
    const modules = await Promise.all(deps.map((d) => meta.getModule(d.owner, d.module)));
    const hidden = modules.filter((m) => m?.visibility === "private").map((m) => `${m?.owner}/${m?.name}`);
    if (hidden.length > 0) {
      throw new RegistryError(
        Code.FailedPrecondition,
        `public module ${self.owner}/${self.name} cannot depend on private modules (${hidden.join(", ")}): make the module private (--visibility private) or the dependencies public`,
        { owner: self.owner, module: self.name },
      );
    }
  }

  /**
   * Compiles the files, checks the push policy and writes the blobs of one commit; the metadata is written by
   * insertPrepared, so several commits can be prepared first and inserted in one transaction. Both pushes go
   * through here: ours from a module directory and buf's Upload.
   */
  async function prepareCommit(
    principal: Principal,
    p: {
      name: FullName;
      user: User;
      existing: Module | undefined;
      visibility: Visibility;
      labels: string[];
      files: ModuleFile[];
      deps: PreparedDep[];
      allowBreaking: boolean;
    },
  ): Promise<PreparedCommit> {
    const { name, deps, files: pushed } = p;
    const [label, ...moreLabels] = p.labels;
    if (label === undefined) throw new RegistryError(Code.Internal, "a commit needs a label");
    if (p.visibility === "public") await refusePrivateDeps(name, deps);
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
      compiler.compile({
        module: { files: protoFiles(pushed) },
        deps: deps.map((d) => ({ name: `${d.owner}/${d.module}`, files: d.files })),
        pusher: p.user.name,
      }),
      createTarGz(pushed),
    ]);
    const warnings = p.existing
      ? await policyFindings(principal, p.existing, label, image, pushed, p.allowBreaking)
      : [];

    // Blobs first, metadata last: a crash in between leaves only unreferenced blobs.
    const [sources, imageBlob] = await Promise.all([putContent(blobs, sourcesTar), putContent(blobs, image)]);
    // The pushed files (read in chunks, then joined), the compiler's image (the same) and the sources archive.
    reclaimAfter(
      2 * (pushed.reduce((n, f) => n + f.content.byteLength, 0) + image.byteLength) + sourcesTar.byteLength,
    );
    const files: CommitFile[] = pushed
      .map((f) => ({ path: f.path, size: f.content.byteLength, sha256: sha256Hex(f.content) }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      input: {
        owner: name.owner,
        module: name.name,
        id: randomBytes(16).toString("hex"),
        digest: manifestDigest(pushed),
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
   * Inserts a prepared commit inside a transaction. `ids` maps the fresh ids of commits prepared in the same
   * batch to the commits they became (a new one, or an existing one with the same content), so a commit that
   * depends on an earlier one of the batch points at the stored one.
   */
  async function insertPrepared(
    tx: MetadataStores,
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

  /**
   * The label's head when it has exactly these files and these pinned dependencies: the commit the store would
   * answer with anyway (it never stores the same content twice), found before the compiler runs.
   */
  async function unchangedHead(
    mod: Module,
    label: string,
    files: readonly ModuleFile[],
    deps: readonly CommitDep[],
  ): Promise<Commit | undefined> {
    const at = await meta.getLabel(mod.id, label);
    const head = at && (await meta.getCommit(at.commitId));
    if (!head || head.digest !== manifestDigest(files)) return undefined;
    const pinned = await meta.listCommitDeps(head.id);
    const same = pinned.length === deps.length && pinned.every((d, i) => d.commitId === deps[i]?.commitId);
    return same ? head : undefined;
  }

  /** A stored commit as a dependency of a commit being prepared. */
  async function preparedDep(dep: CommitDep): Promise<PreparedDep> {
    const commit = await meta.getCommit(dep.commitId);
    if (!commit) throw new RegistryError(Code.Internal, `dependency commit ${dep.commitId} is missing`);
    const b5 = await b5Of(commit);
    return { ...dep, files: protoFiles(await readFiles(commit)), b5: b5.digest, after: b5.deps };
  }

  /** b5 over the files and the digests of the candidate dependencies their imports reach. */
  async function b5Over(files: readonly ModuleFile[], candidates: DepCandidate<Commit>[]): Promise<B5> {
    const reached = reachedDeps(files, candidates);
    const digests = await Promise.all(reached.map(async (c) => Buffer.from((await b5Of(c)).digest, "hex")));
    return { digest: b5Digest(files, digests).toString("hex"), deps: reached.map((c) => c.id) };
  }

  // A commit's files never change, so neither does its b4 digest: computed once per process, not per buf request.
  const b4Digests = new LRUCache<string, Buffer>({ max: 10_000 });
  async function b4Of(commit: Commit, files?: readonly TarEntry[]): Promise<Buffer> {
    const kept = b4Digests.get(commit.id);
    if (kept) return kept;
    const digest = b4Digest(files ?? (await readFiles(commit)));
    b4Digests.set(commit.id, digest);
    return digest;
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

  /** The dependencies with each one after those it depends on (deepest first), as CommitDep lists are kept. */
  function dependencyOrder(deps: readonly PreparedDep[]): PreparedDep[] {
    const within = new Map(deps.map((d) => [d.commitId, d]));
    const ordered: PreparedDep[] = [];
    const visit = (d: PreparedDep) => {
      if (!within.delete(d.commitId)) return;
      for (const id of d.after) {
        const dep = within.get(id);
        if (dep) visit(dep);
      }
      ordered.push(d);
    };
    for (const d of deps) visit(d);
    return ordered;
  }

  return {
    resolveRef,
    resolveIn,

    /** The commit's pinned dependencies, each module readable by the caller (generating over them needs that). */
    async readableDeps(principal: Principal, commit: Commit): Promise<CommitDep[]> {
      const deps = await meta.listCommitDeps(commit.id);
      await Promise.all(deps.map((d) => getModule(principal, { owner: d.owner, name: d.module })));
      return deps;
    },
    readFiles,
    getModule,

    /** A module by its id, if the caller may read it; hidden ones fail as missing. */
    async moduleById(principal: Principal, id: string): Promise<Module> {
      const missing = () => new RegistryError(Code.NotFound, `module with id ${id} does not exist`);
      return access.readOwned(principal, await meta.getModuleById(id), missing);
    },

    /** A commit by its id, if the caller may read its module; hidden ones fail as missing. */
    async commitById(principal: Principal, id: string): Promise<Commit> {
      const commit = await meta.getCommit(id);
      const mod = commit && (await meta.getModuleById(commit.moduleId));
      const missing = () => new RegistryError(Code.NotFound, `commit ${id} does not exist`, { ref: id });
      const found = commit && mod && { owner: mod.owner, visibility: mod.visibility, commit };
      return (await access.readOwned(principal, found || undefined, missing)).commit;
    },

    /** A user or organization by name (owner names are public, as on every registry). */
    async getOwner(principal: Principal, name: string): Promise<Owner> {
      access.checkCanList(principal);
      const owner = await meta.getOwner(name);
      if (!owner) throw new RegistryError(Code.NotFound, `owner ${name} does not exist`, { owner: name });
      return owner;
    },

    async push(
      principal: Principal,
      input: PushInput,
    ): Promise<{ commit: Commit; created: boolean; warnings: string[] }> {
      // Who may push is settled before any pushed byte is parsed; only a name from buf.yaml waits for it.
      requireUser(principal, "pushing");
      if (input.module) await authorizePush(principal, parseFullName("module", input.module));
      validateModuleFiles(input.files, limits);
      const bufYaml = input.files.find((f) => f.path === "buf.yaml");
      if (!bufYaml)
        throw new RegistryError(Code.InvalidArgument, "buf.yaml is missing: push a module directory");
      const bufLock = input.files.find((f) => f.path === "buf.lock");
      checkConfigSize("buf.yaml", bufYaml.content.byteLength);
      if (bufLock) checkConfigSize("buf.lock", bufLock.content.byteLength);
      const config = parseBufConfig({
        bufYaml: new TextDecoder().decode(bufYaml.content),
        ...(bufLock ? { bufLock: new TextDecoder().decode(bufLock.content) } : {}),
        ...(input.module ? { moduleName: input.module } : {}),
      });
      const name = resolveModuleName(input.module, config.name, config.version);
      const { user, existing } = await authorizePush(principal, name);
      const label = checkLabel(input.label || "main");
      const visibility = existing?.visibility ?? input.visibility ?? defaultVisibility;

      const siblings = await importedSiblings(principal, config.workspace, config.deps, input.files);
      const deps = await resolveDeps(principal, name, [...config.deps, ...siblings], config.pins);
      // Re-pushing what the label already points at (a CI job without changes) answers without compiling.
      const head = existing && (await unchangedHead(existing, label, input.files, deps));
      if (head) return { commit: head, created: false, warnings: [] };
      const prepared = await prepareCommit(principal, {
        name,
        user,
        existing,
        visibility,
        labels: [label],
        files: input.files,
        deps: await Promise.all(deps.map(preparedDep)),
        allowBreaking: input.allowBreaking === true,
      });
      const stored = await meta.transaction((tx) => insertPrepared(tx, prepared, new Map()));
      if (stored.created) onCommitted?.(principal, stored.commit);
      return { ...stored, warnings: prepared.warnings };
    },

    /**
     * buf's push: each content is a module that exists already, its files without buf.yaml, its dependencies
     * found among `depCommitIds` and the contents before it by what its files import. No labels means the
     * module's default label. Contents are stored in order, each as one commit.
     */
    async upload(
      principal: Principal,
      contents: readonly { module: FullName; files: ModuleFile[]; labels: string[] }[],
      depCommitIds: readonly string[],
    ): Promise<Commit[]> {
      requireUser(principal, "pushing");
      const mods = [];
      for (const content of contents) {
        const { user, existing } = await authorizePush(principal, content.module);
        if (!existing) throw missingModule(content.module)();
        mods.push({ user, mod: existing });
      }
      const candidates: PreparedDep[] = [];
      for (const id of new Set(depCommitIds)) {
        const commit = await meta.getCommit(id);
        const mod = commit && (await meta.getModuleById(commit.moduleId));
        if (!commit || !mod || !(await access.canRead(principal, mod))) {
          throw new RegistryError(Code.NotFound, `dependency commit ${id} does not exist`, { ref: id });
        }
        candidates.push(await preparedDep(toDep(commit, false)));
      }
      // Every content is compiled and checked before any is stored; then all are stored in one transaction.
      const prepared: PreparedCommit[] = [];
      for (const [i, content] of contents.entries()) {
        const entry = mods[i];
        if (!entry) continue;
        validateModuleFiles(content.files, limits);
        const asCandidates = candidates.map((d) => ({ key: d, files: d.files }));
        const reached = new Set(reachedDeps(content.files, asCandidates));
        const direct = new Set(directDeps(content.files, asCandidates));
        const deps = dependencyOrder(candidates.filter((d) => reached.has(d))).map((d) => ({
          ...d,
          direct: direct.has(d),
        }));
        const commit = await prepareCommit(principal, {
          name: content.module,
          user: entry.user,
          existing: entry.mod,
          visibility: entry.mod.visibility,
          labels: content.labels.length > 0 ? content.labels.map(checkLabel) : [entry.mod.defaultLabel],
          files: content.files,
          deps,
          allowBreaking: false,
        });
        prepared.push(commit);
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
      }
      const stored = await meta.transaction(async (tx) => {
        const ids = new Map<string, string>();
        const results: InsertCommitResult[] = [];
        for (const p of prepared) results.push(await insertPrepared(tx, p, ids));
        return results;
      });
      for (const s of stored) if (s.created) onCommitted?.(principal, s.commit);
      return stored.map((s) => s.commit);
    },

    /** The commit's b5 digest; computed and recorded the first time for commits stored before b5 existed. */
    b5Of,

    /** The commit's b4 digest (buf.yaml v1 modules), from `files` when the caller has read them already. */
    b4Of,

    /** The push policy of a label (its own, else the module's default), or of the module with label "". */
    async getPushPolicy(
      principal: Principal,
      name: FullName,
      label: string,
    ): Promise<PushPolicy & { label: string }> {
      const mod = await getModule(principal, name);
      return (await meta.getPushPolicy(mod.id, label)) ?? { label: "", ...defaultPushPolicy };
    },

    /**
     * Changes the module's default policy (label "") or one label's; a label without its own starts from the
     * module's. Returns the policy now in force there.
     */
    async setPushPolicy(
      principal: Principal,
      name: FullName,
      label: string,
      change: PushPolicyChange,
    ): Promise<PushPolicy & { label: string }> {
      // An owner decision: a writer who could switch a policy off could push what it refuses and switch it back.
      await access.requireManage(principal, name.owner, "change push policies");
      const mod = await getModule(principal, name);
      if (label !== "") checkLabel(label);
      const current = (await meta.getPushPolicy(mod.id, label)) ?? { label: "", ...defaultPushPolicy };
      const { label: _from, ...base } = current;
      const next: PushPolicy = { ...base, ...change };
      await meta.setPushPolicy(mod.id, label, next);
      return { label, ...next };
    },

    /** A module with no commits yet, so its visibility (and default label) can be set before the first push. */
    async createModule(
      principal: Principal,
      name: FullName,
      opts: { visibility?: Visibility; defaultLabel?: string },
    ): Promise<Module> {
      await access.requireWrite(principal, name.owner, "create modules");
      return meta.createModule({
        owner: name.owner,
        name: name.name,
        visibility: opts.visibility ?? defaultVisibility,
        defaultLabel: checkLabel(opts.defaultLabel || "main"),
      });
    },

    /**
     * Changes visibility, keeping "public never depends on private": a module with public dependents stays public,
     * and a module that depends on private ones stays private.
     */
    async updateModule(
      principal: Principal,
      name: FullName,
      change: { visibility?: Visibility },
    ): Promise<Module> {
      // Visibility is an owner decision (asking for it at all, even unchanged); both checks precede the lookup.
      if (change.visibility)
        await access.requireManage(principal, name.owner, "change the visibility of modules");
      else await access.requireWrite(principal, name.owner, "change modules");
      const mod = await getModule(principal, name);
      const visibility = change.visibility;
      if (!visibility || visibility === mod.visibility) return mod;
      if (visibility === "private") {
        const publicDependents = (await meta.listDependents(mod.id)).filter((m) => m.visibility === "public");
        if (publicDependents.length > 0) {
          throw new RegistryError(
            Code.FailedPrecondition,
            `module ${name.owner}/${name.name} cannot become private: public modules depend on it (${publicDependents
              .map((m) => `${m.owner}/${m.name}`)
              .join(", ")}); make them private first`,
            { owner: name.owner, module: name.name },
          );
        }
      } else {
        const privateDeps = (await meta.listDependencies(mod.id)).filter((m) => m.visibility === "private");
        if (privateDeps.length > 0) {
          throw new RegistryError(
            Code.FailedPrecondition,
            `module ${name.owner}/${name.name} cannot become public: it depends on private modules (${privateDeps
              .map((m) => `${m.owner}/${m.name}`)
              .join(", ")}); a public module never depends on a private one`,
            { owner: name.owner, module: name.name },
          );
        }
      }
      await meta.setVisibility("module", mod.id, visibility);
      return { ...mod, visibility };
    },

    /** The modules the caller may read, of one owner or all. */
    async listModules(principal: Principal, owner?: string): Promise<Module[]> {
      access.checkCanList(principal);
      const modules = await meta.listModules(owner);
      // An empty list would read as "this owner has no modules" when the name is mistyped. (Admins may push
      // to a name that is no user or organization, such as demo/, so owning modules makes an owner too.)
      if (owner !== undefined && modules.length === 0 && !(await meta.getOwner(owner))) {
        throw new RegistryError(Code.NotFound, `owner ${owner} does not exist`, { owner });
      }
      return readable(access, principal, modules);
    },

    async listCommits(
      principal: Principal,
      name: FullName,
      page: { limit: number; beforeSeq?: number },
    ): Promise<Commit[]> {
      const mod = await getModule(principal, name);
      return meta.listCommits(mod.id, page);
    },

    async commitDeps(commit: Commit): Promise<CommitDep[]> {
      return meta.listCommitDeps(commit.id);
    },

    /** The commit's compiled image: a FileDescriptorSet of its files and all their imports, with source info. */
    async readImage(commit: Commit): Promise<Uint8Array> {
      return readContent(blobs, commit.imageBlob);
    },

    /** The modules whose commits depend on this one that the caller may read. */
    async listDependents(principal: Principal, name: FullName): Promise<Module[]> {
      const mod = await getModule(principal, name);
      return readable(access, principal, await meta.listDependents(mod.id));
    },

    async listCommitFiles(commit: Commit): Promise<CommitFile[]> {
      return meta.listCommitFiles(commit.id);
    },

    async openSources(commit: Commit): Promise<Readable> {
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
    },

    async listLabels(principal: Principal, name: FullName): Promise<Label[]> {
      const mod = await getModule(principal, name);
      return meta.listLabels(mod.id);
    },

    async setLabel(
      principal: Principal,
      name: FullName,
      label: string,
      ref: string,
      mode: "create" | "move",
    ): Promise<Label> {
      await access.requireWrite(principal, name.owner, `${mode} labels`);
      const mod = await getModule(principal, name);
      const commit = await resolveIn(mod, ref);
      return meta.setLabel(mod.id, checkLabel(label), commit.id, mode);
    },
  };
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

function toDep(commit: Commit, direct: boolean): CommitDep {
  return { commitId: commit.id, owner: commit.owner, module: commit.module, seq: commit.seq, direct };
}

/** The paths every .proto file imports. */
export function importsOf(files: readonly ModuleFile[]): Set<string> {
  return new Set(protoFiles(files).flatMap((f) => protoImports(f.content)));
}

function protoFiles<T extends { path: string }>(files: readonly T[]): T[] {
  return files.filter((f) => f.path.endsWith(".proto"));
}

function resolveModuleName(
  requested: string | undefined,
  fromConfig: FullName | undefined,
  version: "v1" | "v2",
): FullName {
  if (requested) {
    const name = parseFullName("module", requested);
    if (fromConfig && (fromConfig.owner !== name.owner || fromConfig.name !== name.name)) {
      throw new RegistryError(
        Code.InvalidArgument,
        `buf.yaml names module ${fromConfig.owner}/${fromConfig.name}, but the push is for ${name.owner}/${name.name}`,
      );
    }
    return name;
  }
  if (!fromConfig) {
    throw new RegistryError(
      Code.InvalidArgument,
      version === "v1"
        ? "the module has no name: set `name: HOST/OWNER/MODULE` in buf.yaml or pass --module OWNER/NAME"
        : "the module has no name: set `name: HOST/OWNER/MODULE` in buf.yaml (under its entry in `modules:`, or at the top when buf.yaml has no `modules:`), or pass --module OWNER/NAME",
    );
  }
  return fromConfig;
}
