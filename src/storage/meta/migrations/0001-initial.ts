// The first schema: every table of the metadata store, built with the dialect-neutral schema builder.
import type { Kysely, Migration } from "kysely";

/** Users and their tokens. */
async function usersAndTokens(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("is_admin", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("note", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("tokens_hash").unique().on("tokens").column("hash").execute();
  await db.schema.createIndex("tokens_user_id").on("tokens").column("user_id").execute();
}

/** Modules, their commits, files, dependencies and labels. */
async function modulesAndCommits(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("modules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("default_label", "text", (c) => c.notNull())
    .addColumn("last_seq", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("modules_owner_name", ["owner", "name"])
    .execute();

  await db.schema
    .createTable("commits")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("module_id", "text", (c) => c.notNull().references("modules.id"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("sources_blob", "text", (c) => c.notNull())
    .addColumn("image_blob", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("commits_module_seq", ["module_id", "seq"])
    .execute();

  await db.schema
    .createTable("commit_files")
    .addColumn("commit_id", "text", (c) => c.notNull().references("commits.id"))
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("commit_files_pk", ["commit_id", "path"])
    .execute();

  await db.schema
    .createTable("commit_deps")
    .addColumn("commit_id", "text", (c) => c.notNull().references("commits.id"))
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("dep_commit_id", "text", (c) => c.notNull().references("commits.id"))
    .addColumn("direct", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("commit_deps_pk", ["commit_id", "position"])
    .execute();
  // "Which commits depend on this one" is how dependents are found.
  await db.schema.createIndex("commit_deps_dep").on("commit_deps").column("dep_commit_id").execute();

  await db.schema
    .createTable("labels")
    .addColumn("module_id", "text", (c) => c.notNull().references("modules.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("commit_id", "text", (c) => c.notNull().references("commits.id"))
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("labels_pk", ["module_id", "name"])
    .execute();
}

/** Plugins and templates with their versions. */
async function pluginsAndTemplates(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("plugins")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("version_count", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("plugins_owner_name", ["owner", "name"])
    .execute();

  await db.schema
    .createTable("plugin_versions")
    .addColumn("plugin_id", "text", (c) => c.notNull().references("plugins.id"))
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("runtime_libraries", "text", (c) => c.notNull())
    .addColumn("registry_options", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("plugin_versions_pk", ["plugin_id", "version"])
    .execute();

  await db.schema
    .createTable("templates")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("plugins", "text", (c) => c.notNull())
    .addColumn("last_version", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("templates_owner_name", ["owner", "name"])
    .execute();

  await db.schema
    .createTable("template_versions")
    .addColumn("template_id", "text", (c) => c.notNull().references("templates.id"))
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("plugins", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("template_versions_pk", ["template_id", "number"])
    .execute();
}

/** Generated artifacts. */
async function artifacts(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("artifacts")
    .addColumn("template_id", "text", (c) => c.notNull())
    .addColumn("template_version", "integer", (c) => c.notNull())
    .addColumn("commit_id", "text", (c) => c.notNull().references("commits.id"))
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("flavour", "text", (c) => c.notNull())
    .addColumn("blob", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("artifacts_pk", [
      "template_id",
      "template_version",
      "commit_id",
      "scope",
      "flavour",
    ])
    .addForeignKeyConstraint(
      "artifacts_template_version",
      ["template_id", "template_version"],
      "template_versions",
      ["template_id", "number"],
    )
    .execute();
  // Artifacts are listed and purged per commit (e.g. when a commit's image is rebuilt).
  await db.schema.createIndex("artifacts_commit").on("artifacts").column("commit_id").execute();
}

export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await usersAndTokens(db);
    await modulesAndCommits(db);
    await pluginsAndTemplates(db);
    await artifacts(db);
  },
};
