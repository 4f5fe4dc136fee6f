// Modules, commits and labels: push (validate → resolve deps → compile → store), and reading them back.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { Compiler } from "../compile/buf-compiler.js";
import { parseBufConfig } from "../compile/buf-config.js";
import { manifestDigest, validateModuleFiles } from "../compile/module-files.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkLabel, type FullName, isCommitId, parseFullName } from "../core/names.js";
import type { Commit, CommitDep, CommitFile, Label, Module, Visibility } from "../core/types.js";
import { createTarGz, readTarGz, type TarEntry } from "../packaging/tar.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { putContent, readContent } from "../storage/blob/content.js";
import { sha256Hex } from "../storage/blob/paths.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "./access.js";
import { type Principal, requireUser } from "./auth.js";

export interface PushInput {
  /** OWNER/NAME; read from buf.yaml when absent. */
  module?: string;
  files: { path: string; content: Uint8Array }[];
  label?: string;
  /** Used when the push creates the module; an existing module keeps its visibility. */
  visibility?: Visibility;
}

export interface ModuleFile {
  path: string;
  content: Uint8Array;
}

export interface ModuleServiceOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  compiler: Compiler;
  access: AccessPolicy;
  limits: { maxFiles: number; maxFileBytes: number };
  /** Visibility of modules created without one (config defaults.visibility). */
  defaultVisibility: Visibility;
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
  access,
  limits,
  defaultVisibility,
}: ModuleServiceOptions) {
  /** The module if the caller may read it; hidden modules fail exactly as missing ones. */
  async function getModule(principal: Principal, name: FullName): Promise<Module> {
    const mod = await meta.getModule(name.owner, name.name);
    if (!mod) {
      access.checkCanList(principal);
      throw missingModule(name)();
    }
    await access.checkRead(principal, mod, missingModule(name));
    return mod;
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
      const labels = (await meta.listLabels(mod.id)).map((l) => l.name);
      throw new RegistryError(
        Code.NotFound,
        `module ${name.owner}/${name.name} has no label "${wanted}" (labels: ${labels.join(", ") || "none"})`,
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

    async push(principal: Principal, input: PushInput): Promise<{ commit: Commit; created: boolean }> {
      validateModuleFiles(input.files, limits);
      const bufYaml = input.files.find((f) => f.path === "buf.yaml");
      if (!bufYaml)
        throw new RegistryError(Code.InvalidArgument, "buf.yaml is missing: push a module directory");
      const bufLock = input.files.find((f) => f.path === "buf.lock");
      const config = parseBufConfig({
        bufYaml: new TextDecoder().decode(bufYaml.content),
        ...(bufLock ? { bufLock: new TextDecoder().decode(bufLock.content) } : {}),
      });
      const name = resolveModuleName(input.module, config.name);
      requireUser(principal, "push to modules");
      const existing = await meta.getModule(name.owner, name.name);
      // A module the caller may not see answers as missing, before any question of write permission.
      if (existing) await access.checkRead(principal, existing, missingModule(name));
      const user = await access.requireWrite(principal, name.owner, "push to modules");
      const label = checkLabel(input.label || "main");
      const visibility = existing?.visibility ?? input.visibility ?? defaultVisibility;

      const deps = await resolveDeps(principal, name, config.deps, config.pins);
      if (visibility === "public") await refusePrivateDeps(name, deps);
      const depFiles = await Promise.all(
        deps.map(async (d) => {
          const commit = await meta.getCommit(d.commitId);
          if (!commit) throw new RegistryError(Code.Internal, `dependency commit ${d.commitId} is missing`);
          return { name: `${d.owner}/${d.module}`, files: protoFiles(await readFiles(commit)) };
        }),
      );
      // Packing the sources does not depend on the compiler's answer, so it overlaps the compile.
      const [{ image }, sourcesTar] = await Promise.all([
        compiler.compile({ module: { files: protoFiles(input.files) }, deps: depFiles }),
        createTarGz(input.files),
      ]);

      // Blobs first, metadata last: a crash in between leaves only unreferenced blobs.
      const [sources, imageBlob] = await Promise.all([
        putContent(blobs, sourcesTar),
        putContent(blobs, image),
      ]);
      const files: CommitFile[] = input.files
        .map((f) => ({ path: f.path, size: f.content.byteLength, sha256: sha256Hex(f.content) }))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      return meta.insertCommit(
        {
          owner: name.owner,
          module: name.name,
          id: randomBytes(16).toString("hex"),
          digest: manifestDigest(input.files),
          sourcesBlob: sources.key,
          imageBlob: imageBlob.key,
          createdBy: user.name,
          files,
          deps: deps.map((d) => ({ commitId: d.commitId, direct: d.direct })),
          label,
        },
        visibility,
      );
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
      requireUser(principal, "change modules");
      const mod = await getModule(principal, name);
      await access.requireWrite(principal, name.owner, "change modules");
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
      return readable(access, principal, await meta.listModules(owner));
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

    async listCommitFiles(commit: Commit): Promise<CommitFile[]> {
      return meta.listCommitFiles(commit.id);
    },

    async openSources(commit: Commit): Promise<Readable> {
      const stream = await blobs.get(commit.sourcesBlob);
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
      requireUser(principal, `${mode} labels`);
      const mod = await getModule(principal, name);
      await access.requireWrite(principal, name.owner, `${mode} labels`);
      const commit = await resolveIn(mod, ref);
      return meta.setLabel(mod.id, checkLabel(label), commit.id, mode);
    },
  };
}

function toDep(commit: Commit, direct: boolean): CommitDep {
  return { commitId: commit.id, owner: commit.owner, module: commit.module, seq: commit.seq, direct };
}

function protoFiles<T extends { path: string }>(files: readonly T[]): T[] {
  return files.filter((f) => f.path.endsWith(".proto"));
}

function resolveModuleName(requested: string | undefined, fromConfig: FullName | undefined): FullName {
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
      "the module has no name: set `name: HOST/OWNER/MODULE` in buf.yaml or pass OWNER/NAME",
    );
  }
  return fromConfig;
}
