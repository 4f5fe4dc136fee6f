// Token scopes, bots (organization-owned users) and the append-only audit log.
import type { Kysely, Migration } from "kysely";

export const identity: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // Space-separated scopes (`read`, `write:acme`, `write:acme/payments`); null: everything the user may.
    await db.schema.alterTable("tokens").addColumn("scopes", "text").execute();
    // A bot's organization (by name: organizations are never renamed); null for people.
    await db.schema
      .alterTable("users")
      .addColumn("bot_of", "text", (c) => c.references("owners.name"))
      .execute();
    await db.schema.alterTable("users").addColumn("deleted_at", "text").execute();
    await db.schema.createIndex("users_bot_of").on("users").column("bot_of").execute();
    await db.schema
      .createTable("audit_events")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("actor_id", "text")
      .addColumn("token_id", "text")
      .addColumn("bot", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("owner", "text")
      .addColumn("target", "text", (c) => c.notNull())
      .addColumn("before_json", "text")
      .addColumn("after_json", "text")
      .addColumn("client_address", "text")
      .addColumn("user_agent", "text")
      .addColumn("request_id", "text")
      .addColumn("count", "integer", (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex("audit_events_at").on("audit_events").column("at").execute();
    await db.schema.createIndex("audit_events_owner").on("audit_events").columns(["owner", "id"]).execute();
    await db.schema.createIndex("audit_events_actor").on("audit_events").columns(["actor", "id"]).execute();
  },
};
