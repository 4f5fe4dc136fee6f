// Pre-generation subscriptions: the templates whose artifacts are generated right after each push of a module.
import type { Kysely, Migration } from "kysely";

export const pregenerate: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("module_pregenerate")
      .addColumn("module_id", "text", (c) => c.notNull().references("modules.id"))
      .addColumn("template_id", "text", (c) => c.notNull().references("templates.id"))
      .addColumn("position", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("module_pregenerate_pk", ["module_id", "template_id"])
      .execute();
  },
};
