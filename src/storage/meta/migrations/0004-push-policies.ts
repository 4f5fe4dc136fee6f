// Push policies: per module, and optionally per label, whether breaking changes and lint findings are off,
// warned about, or refused at push. The row with label "" is the module's default.
import type { Kysely, Migration } from "kysely";

export const pushPolicies: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("push_policies")
      .addColumn("module_id", "text", (c) => c.notNull().references("modules.id"))
      .addColumn("label", "text", (c) => c.notNull())
      .addColumn("breaking", "text", (c) => c.notNull())
      .addColumn("breaking_category", "text", (c) => c.notNull())
      .addColumn("lint", "text", (c) => c.notNull())
      .addColumn("lint_categories", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("push_policies_pk", ["module_id", "label"])
      .execute();
  },
};
