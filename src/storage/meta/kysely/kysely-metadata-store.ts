// The MetadataStore written once over Kysely: small stores, one file each, composed over one database; a driver
// (sqlite, postgres) only constructs the Kysely instance and says how its leases tell time and wake waiters.
import { type Kysely, sql } from "kysely";
import type { MetadataStore, MetadataStores } from "../metadata-store.js";
import { migrateToLatest } from "../migrations/index.js";
import { createKyselyArtifactStore } from "./artifacts.js";
import { createKyselyAuditStore } from "./audit.js";
import { createKyselyDeletionStore } from "./deletion.js";
import { createKyselyIdentityStore } from "./identities.js";
import { createKyselyLeaseStore, type LeaseDialect } from "./leases.js";
import { createKyselyModuleStore } from "./modules.js";
import { createKyselyOwnerStore } from "./owners.js";
import { createKyselyPluginStore } from "./plugins.js";
import { createKyselyPregenerateStore } from "./pregenerate.js";
import { createKyselyQuotaStore } from "./quotas.js";
import { createKyselyRateCounterStore } from "./rate-counters.js";
import type { Database } from "./schema.js";
import { createKyselyTemplateStore } from "./templates.js";
import { createKyselyUserStore } from "./users.js";
import { createKyselyWebhookStore } from "./webhooks.js";

function composeStores(db: Kysely<Database>, leases: LeaseDialect): MetadataStores {
  return {
    ...createKyselyUserStore(db),
    ...createKyselyOwnerStore(db),
    ...createKyselyModuleStore(db),
    ...createKyselyPluginStore(db),
    ...createKyselyTemplateStore(db),
    ...createKyselyArtifactStore(db),
    ...createKyselyPregenerateStore(db),
    ...createKyselyQuotaStore(db),
    ...createKyselyLeaseStore(db, leases),
    ...createKyselyAuditStore(db),
    ...createKyselyDeletionStore(db),
    ...createKyselyIdentityStore(db),
    ...createKyselyWebhookStore(db, leases.nowMs),
    ...createKyselyRateCounterStore(db),
  };
}

export interface KyselyStoreOptions {
  leases: LeaseDialect;
  /** Runs after `db` is destroyed (e.g. the driver's notification listener). */
  onClose?(): Promise<void>;
}

/** Runs migrations, then returns the stores over `db`. `close()` destroys `db`. */
export async function createKyselyMetadataStore(
  db: Kysely<Database>,
  opts: KyselyStoreOptions,
): Promise<MetadataStore> {
  await migrateToLatest(db as unknown as Kysely<unknown>);
  let closed = false;
  return {
    ...composeStores(db, opts.leases),
    // Every store inside `fn` runs on the transaction's connection; their own transactions join it.
    transaction: (fn) => db.transaction().execute((trx) => fn(composeStores(trx, opts.leases))),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await opts.onClose?.();
    },
  };
}
