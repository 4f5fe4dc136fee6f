// Sign-in through OpenID Connect (docs/sso.md): which identity provider account is which user, and which
// organization roles a provider's group mapping granted (so that leaving the group takes back only those).
import type { Kysely, Migration } from "kysely";

export const oidc: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("identities")
      .addColumn("issuer", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("identities_pk", ["issuer", "subject"])
      .execute();
    await db.schema.createIndex("identities_user").on("identities").column("user_id").execute();
    // Null: given by hand (API, CLI, the organization's creation); else the issuer whose group mapping granted it.
    await db.schema.alterTable("org_members").addColumn("granted_by", "text").execute();
  },
};
