// A webhook's secret can be rotated (docs/webhooks.md, "Rotating the secret"): the replaced secret keeps signing
// deliveries, beside the new one, until its grace period ends. Also, since it came in the same change: when each
// linked provider account last signed in (docs/sso.md, "Linked accounts").
import type { Kysely, Migration } from "kysely";

export const webhookSecretRotation: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // The secret before the last rotation; null: none, or rotated with no grace period.
    await db.schema.alterTable("webhooks").addColumn("previous_secret", "text").execute();
    // Until when (milliseconds since the epoch, by the database clock) the previous secret still signs.
    await db.schema.alterTable("webhooks").addColumn("previous_secret_until", "bigint").execute();
    await db.schema.alterTable("webhooks").addColumn("secret_rotated_at", "text").execute();
    // Null: not since it was linked before this migration (or linked without signing in).
    await db.schema.alterTable("identities").addColumn("last_sign_in_at", "text").execute();
  },
};
