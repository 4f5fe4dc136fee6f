// The shared metadata driver: node-postgres behind Kysely's PostgresDialect, for several nodes on one database.
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { createKyselyMetadataStore } from "../kysely/kysely-metadata-store.js";
import type { Database } from "../kysely/schema.js";
import type { MetadataStore } from "../metadata-store.js";

export interface PostgresMetadataStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections this node holds at once. */
  poolSize: number;
}

/**
 * Connects, then migrates. Kysely's migrator holds a Postgres advisory lock while it runs, so nodes that start
 * together migrate one after the other and each finds the schema current.
 */
export async function createPostgresMetadataStore(
  opts: PostgresMetadataStoreOptions,
): Promise<MetadataStore> {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize });
  // An idle client's error (the server restarted) must not crash the process; the pool replaces the client.
  pool.on("error", () => {});
  try {
    // Fail at start with the driver's reason (refused, wrong password, no such database) instead of at first use.
    const client = await pool.connect();
    client.release();
    return await createKyselyMetadataStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
  } catch (err) {
    await pool.end();
    throw err;
  }
}
