// Dependency pinning for a push: which commit of each dependency a new commit pins, and the rules over them (no
// self-dependency, no cycle, a public module never depends on a private one).
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import type { Commit, CommitDep } from "../../core/types.js";
import type { ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { Principal } from "../auth.js";
import { importsOf, type ModuleFile, toDep } from "./files.js";
import type { ModuleReads } from "./reads.js";

/** A dependency as buf.yaml names it: a module, and the label or commit after `:` if any. */
export type NamedDep = FullName & { ref?: string };

export interface DependencyPinning {
  /**
   * Pins every dependency: direct ones from buf.lock (`pins`, by OWNER/NAME), `:ref` or the default label;
   * transitive ones as their dependents pinned them (a direct pin wins). Deepest first, so the list is in
   * dependency order.
   */
  resolveDeps(
    principal: Principal,
    self: FullName,
    deps: readonly NamedDep[],
    pins: ReadonlyMap<string, string>,
  ): Promise<CommitDep[]>;
  /**
   * The workspace siblings (other modules of the same v2 buf.yaml, already in this registry) whose files the
   * pushed files import: `buf build` resolves those imports inside the workspace, so they become dependencies
   * here. A sibling named in `deps` already, or not pushed yet, is left to resolveDeps.
   */
  importedSiblings(
    principal: Principal,
    workspace: readonly FullName[],
    declared: readonly FullName[],
    files: readonly ModuleFile[],
  ): Promise<FullName[]>;
  /**
   * A public module never depends on a private one: refuse naming the private dependencies, and `fix` (how the
   * pusher's client makes the module private: each client has its own flag).
   */
  refusePrivateDeps(self: FullName, deps: readonly CommitDep[], fix: string): Promise<void>;
}

export function createDependencyPinning({
  meta,
  access,
  reads,
}: {
  meta: Pick<ModuleStore, "getModule" | "listCommitDeps" | "listCommitFiles">;
  access: Pick<AccessPolicy, "canRead">;
  reads: Pick<ModuleReads, "resolveRef" | "resolveIn">;
}): DependencyPinning {
  return {
    async resolveDeps(principal, self, deps, pins) {
      const direct = await directPins(reads, principal, self, deps, pins);
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
    },

    async importedSiblings(principal, workspace, declared, files) {
      const candidates = workspace.filter(
        (w) => !declared.some((d) => d.owner === w.owner && d.name === w.name),
      );
      if (candidates.length === 0) return [];
      const imports = importsOf(files);
      const found: FullName[] = [];
      for (const sibling of candidates) {
        const mod = await meta.getModule(sibling.owner, sibling.name);
        if (!mod || !(await access.canRead(principal, mod))) continue;
        const head = await reads.resolveIn(mod, "");
        const siblingFiles = await meta.listCommitFiles(head.id);
        if (siblingFiles.some((f) => imports.has(f.path))) found.push(sibling);
      }
      return found;
    },

    async refusePrivateDeps(self, deps, fix) {
      const modules = await Promise.all(deps.map((d) => meta.getModule(d.owner, d.module)));
      const hidden = modules.filter((m) => m?.visibility === "private").map((m) => `${m?.owner}/${m?.name}`);
      if (hidden.length > 0) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `public module ${self.owner}/${self.name} cannot depend on private modules (${hidden.join(", ")}): ${fix}, or make the dependencies public`,
          { owner: self.owner, module: self.name },
        );
      }
    },
  };
}

/** Each dependency's commit as named, a missing module being the pusher's to push first. */
async function directPins(
  reads: Pick<ModuleReads, "resolveRef">,
  principal: Principal,
  self: FullName,
  deps: readonly NamedDep[],
  pins: ReadonlyMap<string, string>,
): Promise<Map<string, Commit>> {
  const direct = new Map<string, Commit>();
  for (const dep of deps) {
    const key = `${dep.owner}/${dep.name}`;
    if (key === `${self.owner}/${self.name}`) {
      throw new RegistryError(Code.InvalidArgument, `module ${key} cannot depend on itself`);
    }
    const commit = await reads.resolveRef(principal, dep, pins.get(key) ?? dep.ref).catch((err: unknown) => {
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
  return direct;
}

/** The dependencies with each one after those it depends on (deepest first), as CommitDep lists are kept. */
export function dependencyOrder<T extends { commitId: string; after: readonly string[] }>(
  deps: readonly T[],
): T[] {
  const within = new Map(deps.map((d) => [d.commitId, d]));
  const ordered: T[] = [];
  const visit = (d: T) => {
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
