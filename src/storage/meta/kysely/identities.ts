// Provider accounts linked to users, and the organization roles a provider's group mapping granted (docs/sso.md).
import type { Kysely } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type { Role } from "../../../core/types.js";
import type { IdentityStore, MappedRole } from "../metadata-store.js";
import { now } from "./common.js";
import { toUser } from "./rows.js";
import type { Database } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

export function createKyselyIdentityStore(db: Kysely<Database>): IdentityStore {
  return {
    async findIdentity(issuer, subject) {
      const row = await db
        .selectFrom("identities as i")
        .innerJoin("users as u", "u.id", "i.user_id")
        .selectAll("u")
        .where("i.issuer", "=", issuer)
        .where("i.subject", "=", subject)
        .executeTakeFirst();
      return row ? toUser(row) : undefined;
    },

    async linkIdentity({ issuer, subject, userId }) {
      await db
        .insertInto("identities")
        .values({ issuer, subject, user_id: userId, created_at: now(), last_sign_in_at: null })
        .execute()
        .catch((err: unknown) => {
          if (!isUniqueViolation(err)) throw err;
          throw new RegistryError(Code.AlreadyExists, `account ${subject} of ${issuer} is linked already`, {
            op: "linkIdentity",
          });
        });
    },

    async listIdentities(userId) {
      const rows = await db
        .selectFrom("identities")
        .selectAll()
        .where("user_id", "=", userId)
        .orderBy("issuer")
        .orderBy("subject")
        .execute();
      return rows.map((r) => ({
        issuer: r.issuer,
        subject: r.subject,
        linkedAt: r.created_at,
        ...(r.last_sign_in_at !== null ? { lastSignInAt: r.last_sign_in_at } : {}),
      }));
    },

    async touchIdentity(issuer, subject) {
      await db
        .updateTable("identities")
        .set({ last_sign_in_at: now() })
        .where("issuer", "=", issuer)
        .where("subject", "=", subject)
        .execute();
    },

    async unlinkIdentity(userId, issuer, subject) {
      const res = await db
        .deleteFrom("identities")
        .where("user_id", "=", userId)
        .where("issuer", "=", issuer)
        .where("subject", "=", subject)
        .executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },

    async listMappedRoles(userId, grantedBy): Promise<MappedRole[]> {
      const rows = await db
        .selectFrom("org_members as m")
        .innerJoin("organizations as o", "o.id", "m.org_id")
        .select(["m.org_id", "o.name", "m.role"])
        .where("m.user_id", "=", userId)
        .where("m.granted_by", "=", grantedBy)
        .orderBy("o.name")
        .execute();
      return rows.map((r) => ({ orgId: r.org_id, org: r.name, role: r.role as Role }));
    },

    async setMappedRole(orgId, userId, role, grantedBy) {
      // One statement: a role given by hand (granted_by null) or by another issuer is never overwritten.
      const result = await db
        .insertInto("org_members")
        .values({ org_id: orgId, user_id: userId, role, created_at: now(), granted_by: grantedBy })
        .onConflict((oc) =>
          oc
            .columns(["org_id", "user_id"])
            .doUpdateSet({ role })
            .where("org_members.granted_by", "=", grantedBy),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async removeMappedRole(orgId, userId, grantedBy) {
      const result = await db
        .deleteFrom("org_members")
        .where("org_id", "=", orgId)
        .where("user_id", "=", userId)
        .where("granted_by", "=", grantedBy)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
