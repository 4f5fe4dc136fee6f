// Pre-generation subscriptions: the templates whose artifacts are generated right after each push of a module
// (its own list, and its owner's).
import type { Kysely } from "kysely";
import type { Template } from "../../../core/types.js";
import type { PregenerateStore } from "../metadata-store.js";
import { chunks, insertChunkRows, inTransaction } from "./common.js";
import { toTemplate } from "./rows.js";
import type { Database } from "./schema.js";

export function createKyselyPregenerateStore(db: Kysely<Database>): PregenerateStore {
  return {
    async setPregenerate(moduleId: string, templateIds: readonly string[]): Promise<void> {
      await inTransaction(db, async (trx) => {
        await trx.deleteFrom("module_pregenerate").where("module_id", "=", moduleId).execute();
        const rows = [...new Set(templateIds)].map((template_id, position) => ({
          module_id: moduleId,
          template_id,
          position,
        }));
        for (const chunk of chunks(rows, insertChunkRows)) {
          await trx.insertInto("module_pregenerate").values(chunk).execute();
        }
      });
    },

    async listPregenerate(moduleId: string): Promise<Template[]> {
      const rows = await db
        .selectFrom("module_pregenerate")
        .innerJoin("templates", "templates.id", "module_pregenerate.template_id")
        .selectAll("templates")
        .where("module_pregenerate.module_id", "=", moduleId)
        .orderBy("module_pregenerate.position")
        .execute();
      return rows.map(toTemplate);
    },

    async setOwnerPregenerate(owner: string, templateIds: readonly string[]): Promise<void> {
      await inTransaction(db, async (trx) => {
        await trx.deleteFrom("owner_pregenerate").where("owner", "=", owner).execute();
        const rows = [...new Set(templateIds)].map((template_id, position) => ({
          owner,
          template_id,
          position,
        }));
        for (const chunk of chunks(rows, insertChunkRows)) {
          await trx.insertInto("owner_pregenerate").values(chunk).execute();
        }
      });
    },

    async listOwnerPregenerate(owner: string): Promise<Template[]> {
      const rows = await db
        .selectFrom("owner_pregenerate")
        .innerJoin("templates", "templates.id", "owner_pregenerate.template_id")
        .selectAll("templates")
        .where("owner_pregenerate.owner", "=", owner)
        .orderBy("owner_pregenerate.position")
        .execute();
      return rows.map(toTemplate);
    },
  };
}
