// buf's b5 digest beside our sha256 one. Older commits get it when first asked for (it needs their stored
// files, which migrations cannot read), so the columns start empty.
import type { Kysely, Migration } from "kysely";

export const b5: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("commits").addColumn("b5_digest", "text").execute();
    await db.schema.alterTable("commits").addColumn("b5_deps", "text").execute();
  },
};
