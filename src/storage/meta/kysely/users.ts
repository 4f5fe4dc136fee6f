// Users and their API tokens.
import type { Kysely } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type { TokenRecord, User } from "../../../core/types.js";
import type { NewToken, UserStore } from "../metadata-store.js";
import { claimOwnerName, inTransaction, newId, now } from "./common.js";
import { toToken, toUser } from "./rows.js";
import type { Database } from "./schema.js";
import { isForeignKeyViolation, isUniqueViolation } from "./sql-errors.js";

async function createUser(
  db: Kysely<Database>,
  input: { name: string; isAdmin: boolean; botOf?: string },
): Promise<User> {
  const row = {
    id: newId(),
    name: input.name,
    is_admin: input.isAdmin ? 1 : 0,
    created_at: now(),
    bot_of: input.botOf ?? null,
  } as const;
  await inTransaction(db, async (trx) => {
    await claimOwnerName(trx, input.name, "user", row.created_at, "createUser");
    await trx.insertInto("users").values(row).execute();
  }).catch((err: unknown) => {
    if (isForeignKeyViolation(err)) {
      throw new RegistryError(Code.NotFound, `organization ${input.botOf} does not exist`, {
        op: "createUser",
        owner: input.botOf ?? "",
      });
    }
    throw err;
  });
  return toUser(row);
}

async function createToken(db: Kysely<Database>, input: NewToken): Promise<TokenRecord> {
  const row = {
    id: newId(),
    user_id: input.userId,
    hash: input.hash,
    note: input.note,
    created_at: now(),
    expires_at: input.expiresAt ?? null,
    revoked_at: null,
    last_used_at: null,
    scopes: input.scopes?.length ? input.scopes.join(" ") : null,
  };
  try {
    await db.insertInto("tokens").values(row).execute();
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      throw new RegistryError(Code.NotFound, `user id ${input.userId} not found; create the user first`, {
        op: "createToken",
      });
    }
    if (isUniqueViolation(err)) {
      throw new RegistryError(
        Code.AlreadyExists,
        "a token with this secret already exists; generate a new one",
        {
          op: "createToken",
        },
      );
    }
    throw err;
  }
  return toToken(row);
}

async function findToken(
  db: Kysely<Database>,
  hash: string,
): Promise<{ token: TokenRecord; user: User } | undefined> {
  const row = await db
    .selectFrom("tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .selectAll("t")
    .select([
      "u.name as user_name",
      "u.is_admin as user_is_admin",
      "u.created_at as user_created_at",
      "u.bot_of as user_bot_of",
      "u.deleted_at as user_deleted_at",
    ])
    .where("t.hash", "=", hash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    token: toToken(row),
    user: toUser({
      id: row.user_id,
      name: row.user_name,
      is_admin: row.user_is_admin,
      created_at: row.user_created_at,
      bot_of: row.user_bot_of,
      deleted_at: row.user_deleted_at,
    }),
  };
}

async function listTokens(db: Kysely<Database>, userId: string): Promise<TokenRecord[]> {
  const rows = await db
    .selectFrom("tokens")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toToken);
}

async function revokeToken(db: Kysely<Database>, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable("tokens")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

async function deleteToken(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db.deleteFrom("tokens").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

async function listBots(db: Kysely<Database>, org: string): Promise<User[]> {
  const rows = await db
    .selectFrom("users")
    .selectAll()
    .where("bot_of", "=", org)
    .where("deleted_at", "is", null)
    .orderBy("name")
    .execute();
  return rows.map(toUser);
}

async function deleteBot(db: Kysely<Database>, userId: string, at: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const result = await trx
      .updateTable("users")
      .set({ deleted_at: at })
      .where("id", "=", userId)
      .where("bot_of", "is not", null)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await trx
      .updateTable("tokens")
      .set({ revoked_at: at })
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .execute();
    return true;
  });
}

export function createKyselyUserStore(db: Kysely<Database>): UserStore {
  return {
    createUser: (input) => createUser(db, input),

    async getUserByName(name: string): Promise<User | undefined> {
      const row = await db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
      return row && toUser(row);
    },

    async getUserById(id: string): Promise<User | undefined> {
      const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toUser(row);
    },

    async listUsers(): Promise<User[]> {
      const rows = await db.selectFrom("users").selectAll().orderBy("name").execute();
      return rows.map(toUser);
    },

    createToken: (input) => createToken(db, input),

    findToken: (hash) => findToken(db, hash),

    listTokens: (userId) => listTokens(db, userId),

    async getToken(id: string): Promise<TokenRecord | undefined> {
      const row = await db.selectFrom("tokens").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toToken(row);
    },

    revokeToken: (id, at) => revokeToken(db, id, at),

    deleteToken: (id) => deleteToken(db, id),

    async touchToken(id: string, at: string): Promise<void> {
      await db.updateTable("tokens").set({ last_used_at: at }).where("id", "=", id).execute();
    },

    listBots: (org) => listBots(db, org),

    deleteBot: (userId, at) => deleteBot(db, userId, at),
  };
}
