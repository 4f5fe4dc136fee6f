// Deprecation of plugins and templates (null: not deprecated; a message, possibly empty, while deprecated), and
// the deprecation a consumer of a new version is told, recorded with it once so the version's bytes never change:
// a commit keeps its module's deprecation as of its push, a template version what its template and pinned plugins
// said at its creation (Go reads it from the newest version's go.mod; docs/lifecycle.md).
import type { Kysely, Migration } from "kysely";

export const deprecation: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("plugins").addColumn("deprecation", "text").execute();
    await db.schema.alterTable("templates").addColumn("deprecation", "text").execute();
    await db.schema.alterTable("commits").addColumn("deprecation", "text").execute();
    await db.schema.alterTable("template_versions").addColumn("deprecation", "text").execute();
  },
};
