// The shared metadata driver: node-postgres behind Kysely's PostgresDialect, for several nodes on one database.
import { randomBytes } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { createKyselyMetadataStore } from "../kysely/kysely-metadata-store.js";
import { postgresClock } from "../kysely/leases.js";
import type { Database } from "../kysely/schema.js";
import type { MetadataStore } from "../metadata-store.js";
import { createListener, invalidationChannel, leaseChannel } from "./listener.js";

export interface PostgresMetadataStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections this node holds at once (plus one that listens for lease releases and writes elsewhere). */
  poolSize: number;
  /** How often a lease waiter looks again when no notification arrives. */
  leasePollMs?: number;
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
    const id = randomBytes(8).toString("hex");
    const listener = await createListener(opts.url, id);
    try {
      const store = await createKyselyMetadataStore(
        new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
        {
          leases: {
            nowMs: postgresClock,
            pollMs: opts.leasePollMs ?? 1000,
            // Delivered when the releasing transaction commits, so a waiter never wakes before the artifact is visible.
            notify: async (db, key) => {
              await sql`select pg_notify(${leaseChannel}, ${key})`.execute(db);
            },
            released: (key, signal) => listener.released(key, signal),
          },
          onClose: () => listener.close(),
        },
      );
      return {
        ...store,
        peers: {
          // Sent after the write committed. A note that cannot be sent is not the write's failure: the other
          // nodes then see it at their TTL, as without notes.
          publish: () =>
            pool.query("select pg_notify($1, $2)", [invalidationChannel, id]).then(
              () => {},
              () => {},
            ),
          subscribe: (drop) => listener.onInvalidation(drop),
        },
      };
    } catch (err) {
      await listener.close();
      throw err;
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
