// Helpers shared by the Kysely stores: ids, timestamps, common selects, and transactions that nest.
import { randomBytes } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type { OwnerKind } from "../../../core/types.js";
import type { Database } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

// Keeps multi-row inserts well under SQLite's bound-parameter limit (32766) and Postgres' (65535).
export const insertChunkRows = 500;

export const newId = (): string => randomBytes(16).toString("hex");
export const now = (): string => new Date().toISOString();

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function selectCommits(db: Kysely<Database>) {
  return db
    .selectFrom("commits as c")
    .innerJoin("modules as m", "m.id", "c.module_id")
    .selectAll("c")
    .select(["m.owner as owner", "m.name as module_name"]);
}

export function selectPluginVersions(db: Kysely<Database>) {
  return db
    .selectFrom("plugin_versions as v")
    .innerJoin("plugins as p", "p.id", "v.plugin_id")
    .selectAll("v")
    .select(["p.owner as owner", "p.name as name"]);
}

/** Takes an owner name for a user or an organization; the one namespace is enforced by the owners' primary key. */
export async function claimOwnerName(
  trx: Transaction<Database>,
  name: string,
  kind: OwnerKind,
  createdAt: string,
  op: string,
): Promise<void> {
  try {
    await trx.insertInto("owners").values({ name, kind, created_at: createdAt }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new RegistryError(
        Code.AlreadyExists,
        `owner name ${name} is already taken by a user or organization`,
        {
          op,
          owner: name,
        },
      );
    }
    throw err;
  }
}

/**
 * Runs `fn` in a transaction, or inside the caller's when `db` already is one: a store method that needs a
 * transaction of its own joins `MetadataStore.transaction()` instead of failing.
 */
export function inTransaction<T>(
  db: Kysely<Database>,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? fn(db as Transaction<Database>) : db.transaction().execute(fn);
}

/** A deleted thing's name: it stays reserved (quarantined) until releaseName frees it. */
export const deletedName = (kind: "module" | "plugin" | "template", owner: string, name: string) =>
  new RegistryError(
    Code.Gone,
    `${kind} ${owner}/${name} was deleted; its name stays reserved and cannot be used again`,
    kind === "module"
      ? { owner, module: name }
      : kind === "plugin"
        ? { plugin: `${owner}/${name}` }
        : { template: `${owner}/${name}` },
  );
