// The embedded metadata driver: better-sqlite3 behind Kysely's SqliteDialect.
import { chmod, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { createKyselyMetadataStore } from "../kysely/kysely-metadata-store.js";
import { sqliteClock } from "../kysely/leases.js";
import type { Database } from "../kysely/schema.js";
import type { MetadataStore } from "../metadata-store.js";
import { migrateToLatest } from "../migrations/index.js";

/**
 * The database holds token hashes and private modules' metadata: owner-only (0600), whatever the umask. SQLite
 * creates -wal and -shm with the database file's mode, so creating that one 0600 covers all three; files an older
 * version left 0644 are tightened.
 */
async function ownerOnly(path: string): Promise<void> {
  await (await open(path, "a", 0o600)).close();
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    await chmod(file, 0o600).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== "ENOENT") throw err;
    });
  }
}

export async function createSqliteMetadataStore(opts: {
  path: string;
  /** How often a lease waiter looks again. */
  leasePollMs?: number;
}): Promise<MetadataStore> {
  await mkdir(dirname(opts.path), { recursive: true, mode: 0o700 });
  await ownerOnly(opts.path);
  const database = new SQLite(opts.path);
  try {
    // WAL lets readers run beside the writer; busy_timeout makes a second process wait for the write lock
    // instead of failing (set first: switching to WAL takes a lock too); NORMAL is durable across application
    // crashes in WAL mode.
    database.pragma("busy_timeout = 5000");
    database.pragma("journal_mode = WAL");
    database.pragma("foreign_keys = ON");
    database.pragma("synchronous = NORMAL");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    await migrateExclusively(database, db);
    // Processes sharing the file see each other's leases; with no notifications across processes they poll.
    return await createKyselyMetadataStore(db, {
      leases: { nowMs: sqliteClock, pollMs: opts.leasePollMs ?? 250 },
    });
  } catch (err) {
    database.close();
    throw err;
  }
}

/**
 * Kysely takes no lock to migrate SQLite (it assumes one process), so two processes opening a new file at once
 * would both create the first tables. Migrating inside BEGIN IMMEDIATE holds the file's write lock throughout: the
 * second process waits for it, then finds the schema current. (The store migrates again after this; a no-op.)
 */
async function migrateExclusively(database: SQLite.Database, db: Kysely<Database>): Promise<void> {
  database.pragma("busy_timeout = 60000");
  try {
    database.exec("BEGIN IMMEDIATE");
    try {
      await migrateToLatest(db as unknown as Kysely<unknown>);
      database.exec("COMMIT");
    } catch (err) {
      if (database.inTransaction) database.exec("ROLLBACK");
      throw err;
    }
  } finally {
    database.pragma("busy_timeout = 5000");
  }
}
