// What the parts of the module service share: pushed files, the "module does not exist" error, a commit as a dependency.
import { Code, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import { protoImports } from "../../core/proto-imports.js";
import type { Commit, CommitDep } from "../../core/types.js";
import { refuseDeletedThing } from "../lifecycle/quarantine.js";

export interface ModuleFile {
  path: string;
  content: Uint8Array;
}

export const missingModule = (name: FullName) => () =>
  new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`, {
    owner: name.owner,
    module: name.name,
  });

/**
 * A deleted module, to a caller who may read it (others get missingModule, as for every hidden thing): its name
 * answers 410 and stays quarantined (docs/lifecycle.md).
 */
export function refuseDeleted<T extends { deletedAt?: string; owner: string; name: string }>(mod: T): T {
  return refuseDeletedThing("module", mod);
}

export function protoFiles<T extends { path: string }>(files: readonly T[]): T[] {
  return files.filter((f) => f.path.endsWith(".proto"));
}

/** The paths every .proto file imports. */
export function importsOf(files: readonly ModuleFile[]): Set<string> {
  return new Set(protoFiles(files).flatMap((f) => protoImports(f.content)));
}

export function toDep(commit: Commit, direct: boolean): CommitDep {
  return { commitId: commit.id, owner: commit.owner, module: commit.module, seq: commit.seq, direct };
}
