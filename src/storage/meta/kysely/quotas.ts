// Per-owner quotas an admin set, and the counts they are checked against.
import type { Kysely } from "kysely";
import type { OwnerQuota, QuotaStore } from "../metadata-store.js";
import { now } from "./common.js";
import type { Database } from "./schema.js";

export function createKyselyQuotaStore(db: Kysely<Database>): QuotaStore {
  return {
    async getQuota(owner: string): Promise<OwnerQuota | undefined> {
      const row = await db
        .selectFrom("owner_quotas")
        .selectAll()
        .where("owner", "=", owner)
        .executeTakeFirst();
      return (
        row && {
          modules: row.max_modules,
          commitsPerDay: row.max_commits_per_day,
          imageBytes: row.max_image_bytes === null ? null : Number(row.max_image_bytes),
          images: row.max_images,
        }
      );
    },

    async setQuota(owner: string, quota: OwnerQuota): Promise<void> {
      const values = {
        max_modules: quota.modules,
        max_commits_per_day: quota.commitsPerDay,
        max_image_bytes: quota.imageBytes,
        max_images: quota.images,
        updated_at: now(),
      };
      await db
        .insertInto("owner_quotas")
        .values({ owner, ...values })
        .onConflict((oc) => oc.column("owner").doUpdateSet(values))
        .execute();
    },

    async countModules(owner: string): Promise<number> {
      const row = await db
        .selectFrom("modules")
        .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
        .where("owner", "=", owner)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async countCommitsSince(owner: string, since: string): Promise<number> {
      const row = await db
        .selectFrom("commits")
        .innerJoin("modules", "modules.id", "commits.module_id")
        .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
        .where("modules.owner", "=", owner)
        .where("commits.created_at", ">=", since)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
