// The embedded metadata driver: better-sqlite3 behind Kysely's SqliteDialect.
import { chmod, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { createKyselyMetadataStore } from "../kysely/kysely-metadata-store.js";
import { sqliteClock } from "../kysely/leases.js";
import type { Database } from "../kysely/schema.js";
import type { MetadataStore } from "../metadata-store.js";

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
    // instead of failing; NORMAL is durable across application crashes in WAL mode.
    database.pragma("journal_mode = WAL");
    database.pragma("busy_timeout = 5000");
    database.pragma("foreign_keys = ON");
    database.pragma("synchronous = NORMAL");
    // Processes sharing the file see each other's leases; with no notifications across processes they poll.
    return await createKyselyMetadataStore(
      new Kysely<Database>({ dialect: new SqliteDialect({ database }) }),
      {
        leases: { nowMs: sqliteClock, pollMs: opts.leasePollMs ?? 250 },
      },
    );
  } catch (err) {
    database.close();
    throw err;
  }
}
