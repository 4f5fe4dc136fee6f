// Pre-generation subscriptions of a whole owner: the templates generated right after each push of any module of it.
import type { Kysely, Migration } from "kysely";

export const ownerPregenerate: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("owner_pregenerate")
      .addColumn("owner", "text", (c) => c.notNull().references("owners.name"))
      .addColumn("template_id", "text", (c) => c.notNull().references("templates.id"))
      .addColumn("position", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("owner_pregenerate_pk", ["owner", "template_id"])
      .execute();
  },
};
