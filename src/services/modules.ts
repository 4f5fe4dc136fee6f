// Modules, commits and labels: push (validate → resolve deps → compile → store), and reading them back.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { Compiler } from "../compile/buf-compiler.js";
import { checkConfigSize, parseBufConfig } from "../compile/buf-config.js";
import { manifestDigest, validateModuleFiles } from "../compile/module-files.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkLabel, type FullName, isCommitId, parseFullName } from "../core/names.js";
import type { Commit, CommitDep, CommitFile, Label, Module } from "../core/types.js";
import { createTarGz, readTarGz, type TarEntry } from "../packaging/tar.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { putContent, readContent } from "../storage/blob/content.js";
import { sha256Hex } from "../storage/blob/paths.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { type Principal, requireOwner, requireUser } from "./auth.js";

/** A unique prefix of a commit id that a reference may use, as git allows abbreviated hashes. */
const shortCommitId = /^[0-9a-f]{8,31}$/;

export interface PushInput {
  /** OWNER/NAME; read from buf.yaml when absent. */
  module?: string;
  files: { path: string; content: Uint8Array }[];
  label?: string;
}

export interface ModuleFile {
  path: string;
  content: Uint8Array;
}

export interface ModuleServiceOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  compiler: Compiler;
  limits: { maxFiles: number; maxFileBytes: number };
}

export type ModuleService = ReturnType<typeof createModuleService>;

export function createModuleService({ meta, blobs, compiler, limits }: ModuleServiceOptions) {
  async function getModule(name: FullName): Promise<Module> {
    const mod = await meta.getModule(name.owner, name.name);
    if (!mod) {
      throw new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`, {
        owner: name.owner,
        module: name.name,
      });
    }
    return mod;
  }

  /** A label or commit id of the module; an empty ref means the module's default label. */
  async function resolveRef(name: FullName, ref: string | undefined): Promise<Commit> {
    const mod = await getModule(name);
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
   * Pins every dependency: direct ones from buf.lock, `:ref` or the default label; transitive ones as their
   * dependents pinned them (a direct pin wins). Deepest first, so the list is in dependency order.
   */
  async function resolveDeps(
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
      const commit = await resolveRef(dep, pins.get(key) ?? dep.ref).catch((err: unknown) => {
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

  return {
    resolveRef,
    readFiles,
    getModule,

    async push(principal: Principal, input: PushInput): Promise<{ commit: Commit; created: boolean }> {
      // Who may push is settled before any pushed byte is parsed; only a name from buf.yaml waits for it.
      requireUser(principal, "pushing");
      if (input.module)
        requireOwner(principal, parseFullName("module", input.module).owner, "push to modules");
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
      });
      const name = resolveModuleName(input.module, config.name);
      const user = requireOwner(principal, name.owner, "push to modules");
      const label = checkLabel(input.label || "main");

      const deps = await resolveDeps(name, config.deps, config.pins);
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
      return meta.insertCommit({
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
      });
    },

    async listModules(owner?: string): Promise<Module[]> {
      const modules = await meta.listModules(owner);
      // An empty list would read as "this owner has no modules" when the name is mistyped. (Admins may push
      // to a name that is no user or organization, such as demo/, so owning modules makes an owner too.)
      if (owner !== undefined && modules.length === 0 && !(await meta.getOwner(owner))) {
        throw new RegistryError(Code.NotFound, `owner ${owner} does not exist`, { owner });
      }
      return modules;
    },

    async listCommits(name: FullName, page: { limit: number; beforeSeq?: number }): Promise<Commit[]> {
      const mod = await getModule(name);
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

    async listLabels(name: FullName): Promise<Label[]> {
      const mod = await getModule(name);
      return meta.listLabels(mod.id);
    },

    async setLabel(
      principal: Principal,
      name: FullName,
      label: string,
      ref: string,
      mode: "create" | "move",
    ): Promise<Label> {
      requireOwner(principal, name.owner, `${mode} labels`);
      const mod = await getModule(name);
      const commit = await resolveRef(name, ref);
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
