// Per-owner plugin image quotas an admin set, beside 0015's: null follows the configured default
// (oci.ownerQuotaBytes, oci.ownerQuotaImages). Bytes are a bigint: quotas past 2 GiB are the usual case.
import type { Kysely, Migration } from "kysely";

export const imageQuotas: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("owner_quotas").addColumn("max_image_bytes", "bigint").execute();
    await db.schema.alterTable("owner_quotas").addColumn("max_images", "integer").execute();
  },
};
