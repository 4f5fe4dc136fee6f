// What every part of the metadata store contract shares: the current store, fresh commits, error matchers.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type Code, isRegistryError } from "../../../core/errors.js";
import type { Commit } from "../../../core/types.js";
import type { MetadataStore, NewCommit } from "../metadata-store.js";

/** The suite's handle on the store of the test that runs (each test gets a fresh database). */
export interface Suite {
  store(): MetadataStore;
  /** Inserts a fresh commit (a new module on its first push) and checks it was created. */
  push(owner: string, module: string, over?: Partial<NewCommit>): Promise<Commit>;
}

export const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

export function newCommit(owner: string, module: string, over: Partial<NewCommit> = {}): NewCommit {
  return {
    owner,
    module,
    id: hex(16),
    digest: `sha256:${hex(32)}`,
    sourcesBlob: `sha256/aa/${hex(32)}`,
    imageBlob: `sha256/bb/${hex(32)}`,
    createdBy: "alice",
    files: [],
    deps: [],
    label: "main",
    ...over,
  };
}

export async function pushCommit(
  store: MetadataStore,
  owner: string,
  module: string,
  over: Partial<NewCommit> = {},
): Promise<Commit> {
  const { commit, created } = await store.insertCommit(newCommit(owner, module, over));
  assert.equal(created, true);
  return commit;
}

export function isCode(code: Code) {
  return (err: unknown): boolean => isRegistryError(err, code);
}
