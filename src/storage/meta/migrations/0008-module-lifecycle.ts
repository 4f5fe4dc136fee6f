// A module's description and deprecation (null: not deprecated; a message, possibly empty, while deprecated), and
// archived labels (archived_at set: out of listings, still resolving).
import type { Kysely, Migration } from "kysely";

export const moduleLifecycle: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("modules")
      .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema.alterTable("modules").addColumn("deprecation", "text").execute();
    await db.schema.alterTable("labels").addColumn("archived_at", "text").execute();
  },
};
