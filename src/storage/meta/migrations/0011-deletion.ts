// Deleting plugins and templates as modules are deleted (deleted_at set: the row stays, the name answers 410 and is
// quarantined), and the coarse day a module's or a template's artifacts were last served (YYYY-MM-DD, written at
// most once a day per node), which can hold a deletion back (lifecycle.refuseDeleteIfServedWithinDays).
import type { Kysely, Migration } from "kysely";

export const deletion: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("plugins").addColumn("deleted_at", "text").execute();
    await db.schema.alterTable("templates").addColumn("deleted_at", "text").execute();
    await db.schema.alterTable("modules").addColumn("last_served_on", "text").execute();
    await db.schema.alterTable("templates").addColumn("last_served_on", "text").execute();
  },
};
