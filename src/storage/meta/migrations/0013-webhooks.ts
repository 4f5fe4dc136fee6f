// Webhook subscriptions, their deliveries (the outbox: one row per event and subscription, written in the change's
// transaction, claimed by one node at a time), and the shared fixed-window counters of rate limits.
import type { Kysely, Migration } from "kysely";

export const webhooks: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("webhooks")
      .addColumn("id", "text", (c) => c.primaryKey())
      // The organization (or user) whose events it receives; null: every event of the server (admins only).
      .addColumn("owner", "text")
      .addColumn("url", "text", (c) => c.notNull())
      // The HMAC key of the signatures; shown once at creation, never answered again.
      .addColumn("secret", "text", (c) => c.notNull())
      // Space-separated event kinds, or "*".
      .addColumn("events", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("webhooks_owner").on("webhooks").column("owner").execute();
    await db.schema
      .createTable("webhook_deliveries")
      // Sorts by creation time (like audit event ids).
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("webhook_id", "text", (c) => c.notNull())
      .addColumn("event_id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      // The request body, fixed at the event: every attempt sends the same bytes.
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      // pending, succeeded, failed
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      // Milliseconds since the epoch by the database clock.
      .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
      .addColumn("claimed_by", "text")
      .addColumn("claim_expires_at", "bigint")
      .addColumn("last_status", "integer")
      .addColumn("last_error", "text")
      .addColumn("last_latency_ms", "integer")
      .addColumn("finished_at", "text")
      .execute();
    await db.schema
      .createIndex("webhook_deliveries_due")
      .on("webhook_deliveries")
      .columns(["state", "next_attempt_at"])
      .execute();
    await db.schema
      .createIndex("webhook_deliveries_webhook")
      .on("webhook_deliveries")
      .columns(["webhook_id", "id"])
      .execute();
    await db.schema
      .createTable("rate_counters")
      .addColumn("key", "text", (c) => c.notNull())
      // The window's start, milliseconds since the epoch (a multiple of the window).
      .addColumn("window_start", "bigint", (c) => c.notNull())
      .addColumn("count", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("rate_counters_pk", ["key", "window_start"])
      .execute();
  },
};
