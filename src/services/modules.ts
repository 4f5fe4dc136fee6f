// Modules, commits and labels: push (validate → resolve deps → compile → store), and reading them back.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { SchemaChecker } from "../compile/buf-checks.js";
import type { Compiler } from "../compile/buf-compiler.js";
import { checkConfigSize, parseBufConfig } from "../compile/buf-config.js";
import { manifestDigest, validateModuleFiles } from "../compile/module-files.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkLabel, type FullName, isCommitId, parseFullName } from "../core/names.js";
import {
  type Commit,
  type CommitDep,
  type CommitFile,
  defaultPushPolicy,
  type Label,
  type Module,
  type PushPolicy,
  type Visibility,
} from "../core/types.js";
import { createTarGz, readTarGz, type TarEntry } from "../packaging/tar.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { putContent, readContent } from "../storage/blob/content.js";
import { sha256Hex } from "../storage/blob/paths.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
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

  /** A module the caller may not see answers as missing, before any question of write permission. */
  async function authorizePush(principal: Principal, name: FullName) {
    const existing = await meta.getModule(name.owner, name.name);
    if (existing) await access.checkRead(principal, existing, missingModule(name));
    const user = await access.requireWrite(principal, name.owner, "push to modules");
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
      const found = await checker.lint({ image, categories: policy.lintCategories, paths });
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
      const found = await checker.breaking({ image, against, category: policy.breakingCategory, paths });
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
      const warnings = existing
        ? await policyFindings(principal, existing, label, image, input.files, input.allowBreaking === true)
        : [];

      // Blobs first, metadata last: a crash in between leaves only unreferenced blobs.
      const [sources, imageBlob] = await Promise.all([
        putContent(blobs, sourcesTar),
        putContent(blobs, image),
      ]);
      const files: CommitFile[] = input.files
        .map((f) => ({ path: f.path, size: f.content.byteLength, sha256: sha256Hex(f.content) }))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const stored = await meta.insertCommit(
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
      return { ...stored, warnings };
    },

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
      const mod = await getModule(principal, name);
      await access.requireWrite(principal, name.owner, "change push policies");
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

/** The paths every .proto file imports (`import "a/b.proto";`, also `public` and `weak`). */
export function importsOf(files: readonly ModuleFile[]): Set<string> {
  const imports = new Set<string>();
  const decoder = new TextDecoder();
  for (const file of protoFiles(files)) {
    for (const m of decoder
      .decode(file.content)
      .matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm)) {
      if (m[1]) imports.add(m[1]);
    }
  }
  return imports;
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
        : "the module has no name: set `name: HOST/OWNER/MODULE` under its entry in `modules:` of buf.yaml, or pass --module OWNER/NAME",
    );
  }
  return fromConfig;
}
