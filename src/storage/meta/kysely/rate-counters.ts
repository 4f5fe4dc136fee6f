// Fixed-window request counters shared by the nodes of one database: one row per key and window, incremented by one
// atomic upsert that answers the new total (both SQLite and PostgreSQL run INSERT … ON CONFLICT … RETURNING).
import { type Kysely, sql } from "kysely";
import type { RateCounterStore } from "../metadata-store.js";
import type { Database } from "./schema.js";

export function createKyselyRateCounterStore(db: Kysely<Database>): RateCounterStore {
  return {
    async addRateCount(key, windowStart, n) {
      const row = await db
        .insertInto("rate_counters")
        .values({ key, window_start: windowStart, count: n })
        .onConflict((oc) =>
          oc.columns(["key", "window_start"]).doUpdateSet({ count: sql`rate_counters.count + ${n}` }),
        )
        .returning("count")
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async pruneRateCounts(windowStart) {
      const res = await db
        .deleteFrom("rate_counters")
        .where("window_start", "<", windowStart)
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
