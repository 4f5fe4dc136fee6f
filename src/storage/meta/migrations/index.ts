// Schema migrations in code, applied in name order at open; a new migration is one more entry below.
import { type Kysely, type Migration, Migrator } from "kysely";
import { initial } from "./0001-initial.js";
import { access } from "./0002-access.js";
import { leases } from "./0003-leases.js";
import { pushPolicies } from "./0004-push-policies.js";
import { pregenerate } from "./0005-pregenerate.js";
import { b5 } from "./0006-b5.js";
import { ownerPregenerate } from "./0007-owner-pregenerate.js";
import { moduleLifecycle } from "./0008-module-lifecycle.js";
import { identity } from "./0009-identity.js";
import { deprecation } from "./0010-deprecation.js";
import { deletion } from "./0011-deletion.js";
import { oidc } from "./0012-oidc.js";
import { webhooks } from "./0013-webhooks.js";
import { quotas } from "./0015-quotas.js";
import { imageQuotas } from "./0016-image-quotas.js";
import { webhookSecretRotation } from "./0017-webhook-secret-rotation.js";

const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-access": access,
  "0003-leases": leases,
  "0004-push-policies": pushPolicies,
  "0005-pregenerate": pregenerate,
  "0006-b5": b5,
  "0007-owner-pregenerate": ownerPregenerate,
  "0008-module-lifecycle": moduleLifecycle,
  "0009-identity": identity,
  "0010-deprecation": deprecation,
  "0011-deletion": deletion,
  "0012-oidc": oidc,
  "0013-webhooks": webhooks,
  "0015-quotas": quotas,
  "0016-image-quotas": imageQuotas,
  "0017-webhook-secret-rotation": webhookSecretRotation,
};

/** Brings the database to the newest schema; throws if any migration fails (nothing of it is applied). */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new Error(`metadata migration failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
