// A module's description and deprecation (null: not deprecated; a message, possibly empty, while deprecated), its
// deletion (deleted_at set: the row stays so the name answers 410 and is never taken again), and archived labels
// (archived_at set: out of listings, still resolving).
import type { Kysely, Migration } from "kysely";

export const moduleLifecycle: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("modules")
      .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema.alterTable("modules").addColumn("deprecation", "text").execute();
    await db.schema.alterTable("modules").addColumn("deleted_at", "text").execute();
    await db.schema.alterTable("labels").addColumn("archived_at", "text").execute();
  },
};
