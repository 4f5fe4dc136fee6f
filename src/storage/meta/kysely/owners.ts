// Owner names (one namespace for users and organizations) and organization members.
import type { Kysely } from "kysely";
import type { Member, Organization, Owner, OwnerKind, Role } from "../../../core/types.js";
import type { OwnerStore } from "../metadata-store.js";
import { claimOwnerName, inTransaction, newId, now } from "./common.js";
import { toOrganization, toUser } from "./rows.js";
import type { Database } from "./schema.js";

async function createOrganization(
  db: Kysely<Database>,
  input: { name: string; ownerUserId: string },
): Promise<Organization> {
  const row = { id: newId(), name: input.name, created_at: now() };
  await inTransaction(db, async (trx) => {
    await claimOwnerName(trx, input.name, "organization", row.created_at, "createOrganization");
    await trx.insertInto("organizations").values(row).execute();
    await trx
      .insertInto("org_members")
      .values({ org_id: row.id, user_id: input.ownerUserId, role: "owner", created_at: row.created_at })
      .execute();
  });
  return toOrganization(row);
}

async function deleteOrganization(
  db: Kysely<Database>,
  name: string,
): Promise<"deleted" | "not-empty" | "missing"> {
  return inTransaction(db, async (trx) => {
    const org = await trx
      .selectFrom("organizations")
      .select("id")
      .where("name", "=", name)
      .executeTakeFirst();
    if (!org) return "missing";
    for (const table of ["modules", "plugins", "templates"] as const) {
      const owned = await trx.selectFrom(table).select("id").where("owner", "=", name).executeTakeFirst();
      if (owned) return "not-empty";
    }
    // Its bots, deleted ones too (their names stay taken, and their audit events name the organization).
    const bot = await trx.selectFrom("users").select("id").where("bot_of", "=", name).executeTakeFirst();
    if (bot) return "not-empty";
    await trx.deleteFrom("owner_pregenerate").where("owner", "=", name).execute();
    await trx.deleteFrom("org_members").where("org_id", "=", org.id).execute();
    await trx.deleteFrom("organizations").where("id", "=", org.id).execute();
    await trx.deleteFrom("owners").where("name", "=", name).execute();
    return "deleted";
  });
}

async function setMember(db: Kysely<Database>, orgId: string, userId: string, role: Role): Promise<void> {
  await db
    .insertInto("org_members")
    .values({ org_id: orgId, user_id: userId, role, created_at: now(), granted_by: null })
    // A role given by hand is the hand's from now on: no group mapping takes it back.
    .onConflict((oc) => oc.columns(["org_id", "user_id"]).doUpdateSet({ role, granted_by: null }))
    .execute();
}

async function listOrganizations(db: Kysely<Database>, memberUserId?: string): Promise<Organization[]> {
  let q = db.selectFrom("organizations as o").selectAll("o");
  if (memberUserId !== undefined) {
    q = q.innerJoin("org_members as m", "m.org_id", "o.id").where("m.user_id", "=", memberUserId);
  }
  const rows = await q.orderBy("o.name").execute();
  return rows.map(toOrganization);
}

export function createKyselyOwnerStore(db: Kysely<Database>): OwnerStore {
  return {
    async getOwner(name: string): Promise<Owner | undefined> {
      const row = await db.selectFrom("owners").selectAll().where("name", "=", name).executeTakeFirst();
      return row && { name: row.name, kind: row.kind as OwnerKind };
    },

    createOrganization: (input) => createOrganization(db, input),
    deleteOrganization: (name) => deleteOrganization(db, name),

    async getOrganization(name: string): Promise<Organization | undefined> {
      const row = await db
        .selectFrom("organizations")
        .selectAll()
        .where("name", "=", name)
        .executeTakeFirst();
      return row && toOrganization(row);
    },

    listOrganizations: (memberUserId) => listOrganizations(db, memberUserId),
    setMember: (orgId, userId, role) => setMember(db, orgId, userId, role),

    async removeMember(orgId: string, userId: string): Promise<boolean> {
      const result = await db
        .deleteFrom("org_members")
        .where("org_id", "=", orgId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async listMembers(orgId: string): Promise<Member[]> {
      const rows = await db
        .selectFrom("org_members as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .selectAll("u")
        .select("m.role as role")
        .where("m.org_id", "=", orgId)
        .orderBy("u.name")
        .execute();
      return rows.map((r) => ({ user: toUser(r), role: r.role as Role }));
    },

    async getMemberRole(orgName: string, userId: string): Promise<Role | undefined> {
      const row = await db
        .selectFrom("org_members as m")
        .innerJoin("organizations as o", "o.id", "m.org_id")
        .select("m.role")
        .where("o.name", "=", orgName)
        .where("m.user_id", "=", userId)
        .executeTakeFirst();
      return row?.role as Role | undefined;
    },
  };
}
