// Per-owner quotas an admin set: null columns follow the configured defaults (quotas.* in the config).
import type { Kysely, Migration } from "kysely";

export const quotas: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("owner_quotas")
      .addColumn("owner", "text", (c) => c.primaryKey().references("owners.name"))
      .addColumn("max_modules", "integer")
      .addColumn("max_commits_per_day", "integer")
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    // A push counts the owner's commits of the last day: by module, then by time.
    await db.schema
      .createIndex("commits_module_created")
      .on("commits")
      .columns(["module_id", "created_at"])
      .execute();
  },
};
