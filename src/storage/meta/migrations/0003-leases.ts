// Leases: which node may generate an artifact right now (expiry by the database clock, fencing token).
import type { Kysely, Migration } from "kysely";

export const leases: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("leases")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("holder", "text", (c) => c.notNull())
      // Grows by one per acquisition and never goes back: the row stays after release, so a stale holder's
      // token can never match again.
      .addColumn("token", "bigint", (c) => c.notNull())
      // Milliseconds since the epoch by the database's clock; 0 once released.
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
  },
};
