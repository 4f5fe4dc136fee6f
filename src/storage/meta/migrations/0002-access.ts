// Owners and access: one namespace for users and organizations, organization members with roles, and the token
// lifecycle (expiry, revocation, last use). Existing users become owners.
import { type Kysely, type Migration, sql } from "kysely";

export const access: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("owners")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await sql`INSERT INTO owners (name, kind, created_at) SELECT name, 'user', created_at FROM users`.execute(
      db,
    );

    await db.schema
      .createTable("organizations")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull().unique().references("owners.name"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("org_members")
      .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("org_members_pk", ["org_id", "user_id"])
      .execute();
    await db.schema.createIndex("org_members_user").on("org_members").column("user_id").execute();

    await db.schema.alterTable("tokens").addColumn("expires_at", "text").execute();
    await db.schema.alterTable("tokens").addColumn("revoked_at", "text").execute();
    await db.schema.alterTable("tokens").addColumn("last_used_at", "text").execute();
  },
};
